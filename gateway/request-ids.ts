/**
 * Request ids and routing keys, as clients send them: each is stored and indexed with every
 * logged row, so it is bounded in length, printable (no control characters: a log line or a
 * terminal showing it stays one line) and storable (no unpaired surrogate, see storable-text.ts).
 */
import { describeValue } from './instance-validation';
import { quoted, unstorableCharacter } from './storable-text';

export const MAX_ID_LENGTH = 200;

/** Names what request ids and routing keys accept, for refusals. */
export const ID_RULE = `a non-empty string of at most ${MAX_ID_LENGTH} characters, without control characters or unpaired surrogates`;

const CONTROL = /\p{Cc}/u;

/** Why `value` is not a valid id, or null when it is ("is 201 characters long", "contains U+000A"). */
export function idProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `got ${describeValue(value)}`;
  if (value.length === 0) return 'got an empty string';
  if (value.length > MAX_ID_LENGTH) return `got ${value.length} characters`;
  const control = CONTROL.exec(value);
  if (control) return `got ${quoted(value)}, which contains the control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  const unstorable = unstorableCharacter(value);
  if (unstorable) return `got a string with ${unstorable}`;
  return null;
}

/** The message refusing an id field: "'requestId' must be a non-empty string …; got number 7". */
export function idMessage(field: string, problem: string): string {
  return `'${field}' must be ${ID_RULE}; ${problem}`;
}
