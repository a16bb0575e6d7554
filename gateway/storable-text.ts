/**
 * Which strings the prediction log can store as they were received. Postgres text and jsonb
 * cannot hold U+0000 (a COPY row with it is refused, so the row would be lost after its answer
 * was sent), and a UTF-16 surrogate without its pair is not a character: encoded as UTF-8 it
 * would become U+FFFD, so the logged value would differ from the one scored, and jsonb refuses
 * its `\ud800` escape. Requests with either are refused before they are scored.
 */

/** NUL or any surrogate: the only code units that need the careful check below. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const SUSPECT = /[\u0000\ud800-\udfff]/;

/** What in `value` cannot be stored ("U+0000 (NUL)", "an unpaired surrogate U+D83D"), or null when all of it can. */
export function unstorableCharacter(value: string): string | null {
  if (!SUSPECT.test(value)) return null;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit === 0) return 'U+0000 (NUL)';
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `an unpaired surrogate ${codePoint(unit)}`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `an unpaired surrogate ${codePoint(unit)}`;
  }
  return null;
}

function codePoint(unit: number): string {
  return `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A string as shown in an error message: JSON-quoted with single quotes, cut after 40 characters. */
export function quoted(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `'${JSON.stringify(shown).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}
