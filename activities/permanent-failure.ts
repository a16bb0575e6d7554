import { ApplicationFailure } from '@temporalio/activity';
import { PERMANENT_ERROR_TYPES } from '../lib/policy/permanent-errors';

const permanentTypes: ReadonlySet<string> = new Set(PERMANENT_ERROR_TYPES);

/**
 * Runs an activity body and turns a permanent lib/ error into a non-retryable
 * ApplicationFailure of the same type, so the workflow fails with a clear reason
 * instead of retrying bad data. Other errors stay retryable.
 */
export async function failPermanentlyOn<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    const type = (err as { type?: unknown }).type;
    if (typeof type === 'string' && permanentTypes.has(type)) {
      throw ApplicationFailure.create({ type, message: (err as Error).message, nonRetryable: true, cause: err as Error });
    }
    throw err;
  }
}
