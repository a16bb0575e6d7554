/**
 * The error an Update validator throws to refuse a request. The Temporal Web UI shows a refused
 * Update's message and, below it, the error's stack trace, which named the worker's files
 * (`/srv/retrain/workflows/safe-promotion.ts:142:11`): a refusal is an answer to the person who
 * asked, not a fault, so it carries its reason and no stack.
 */
export function refusalError(reason: string): Error {
  const error = new Error(reason);
  error.stack = '';
  return error;
}
