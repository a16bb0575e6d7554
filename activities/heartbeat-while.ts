import { heartbeat } from '@temporalio/activity';

/** How often heartbeatWhile beats; the profiles' heartbeat timeouts (workflows/activity-options.ts) allow several misses. */
export const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs `body` and heartbeats `details` every few seconds while it runs, so that a worker that
 * dies mid-activity is noticed within the heartbeat timeout (seconds) instead of the
 * start-to-close timeout (minutes). DuckDB and onnxruntime work off the event loop, so the
 * beats keep coming while they run.
 */
export async function heartbeatWhile<T>(details: unknown, body: () => Promise<T>, everyMs = HEARTBEAT_EVERY_MS): Promise<T> {
  heartbeat(details);
  const timer = setInterval(() => heartbeat(details), everyMs);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}
