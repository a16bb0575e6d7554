import { ApplicationFailure } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import pg from 'pg';
import { z } from 'zod';
import { PERMANENT_ERROR_TYPES, type PermanentErrorType } from '../lib/policy/permanent-errors';

const permanentTypes: ReadonlySet<string> = new Set(PERMANENT_ERROR_TYPES);

/**
 * SQLSTATEs for which Postgres refused the values themselves, so the same statement with the
 * same input fails on every attempt: class 22 (data exception, e.g. "invalid input syntax for
 * type bigint"), not-null, foreign-key and check violations. Unique violations are left
 * retryable: the repositories resolve those races themselves.
 */
function rejectsInput(code: string): boolean {
  return code.startsWith('22') || code === '23502' || code === '23503' || code === '23514';
}

/** The permanent type of an error, or undefined when retrying might help. */
function permanentTypeOf(err: unknown): PermanentErrorType | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && permanentTypes.has(type)) return type as PermanentErrorType;
  if (err instanceof z.core.$ZodError) return 'InvalidActivityInput';
  if (err instanceof pg.DatabaseError && err.code && rejectsInput(err.code)) return 'DatabaseRejectedInput';
  return undefined;
}

function messageOf(err: unknown, type: PermanentErrorType): string {
  if (err instanceof z.core.$ZodError) return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  const message = err instanceof Error ? err.message : String(err);
  return type === 'DatabaseRejectedInput' ? `${message} (SQLSTATE ${(err as pg.DatabaseError).code})` : message;
}

/**
 * Runs an activity body and turns a permanent error into a non-retryable
 * ApplicationFailure of its type, so the workflow fails with a clear reason
 * instead of retrying what cannot succeed. Temporal's own failures (a
 * cancellation, an ApplicationFailure the body raised) pass through untouched;
 * other errors stay retryable.
 */
export async function failPermanentlyOn<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof TemporalFailure) throw err;
    const type = permanentTypeOf(err);
    if (type) throw ApplicationFailure.create({ type, message: messageOf(err, type), nonRetryable: true, cause: err instanceof Error ? err : undefined });
    throw err;
  }
}

// Activity arguments are whatever the workflow sent; `never[]` accepts every function signature.
type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * The same activities, each run through failPermanentlyOn: the mapping is applied once, to
 * every activity a worker registers, instead of call by call. Each wrapper runs inside the
 * activity's context, so heartbeat(), activityInfo() and cancellationSignal() work as before.
 */
export function withPermanentFailures<T extends ActivityFunctions>(activities: T): T {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, activity] of Object.entries(activities)) {
    const run = activity as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = (...args) => failPermanentlyOn(() => run(...args));
  }
  return wrapped as unknown as T;
}
