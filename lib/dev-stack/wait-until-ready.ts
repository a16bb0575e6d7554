import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitUntilReadyOptions<T> {
  /** What is awaited, for the error message: "Temporal frontend at 127.0.0.1:7233". */
  what: string;
  /** Resolves when ready; throws (any error) while not ready yet. */
  probe: () => Promise<T>;
  timeoutMs: number;
  intervalMs?: number;
  /** Rejects when waiting is pointless, e.g. the server process exited; wins over the timeout. */
  abort?: Promise<never>;
}

/**
 * Calls `probe` until it succeeds. On timeout the error names what was awaited and the
 * probe's last error, so a failed start says which service and why.
 */
export async function waitUntilReady<T>(options: WaitUntilReadyOptions<T>): Promise<T> {
  const { what, probe, timeoutMs, intervalMs = 200 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('no attempt finished in time');
  let aborted: { error: unknown } | undefined;
  const abort = options.abort ?? new Promise<never>(() => undefined);
  // Registered before any race below, so `aborted` is set before a race rejects with it.
  abort.catch((error: unknown) => {
    aborted = { error };
  });
  const timedOut = Symbol('timed out');
  const timer = new AbortController();
  const deadlineReached = sleep(timeoutMs, timedOut, { signal: timer.signal }).catch(() => timedOut);
  try {
    for (;;) {
      try {
        const result = await Promise.race([probe(), abort, deadlineReached]);
        if (result !== timedOut) return result as T;
      } catch (err) {
        if (aborted) throw aborted.error;
        lastError = err;
      }
      if (Date.now() >= deadline) {
        const reason = lastError instanceof Error ? lastError.message : String(lastError);
        throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last error: ${reason}`, {
          cause: lastError,
        });
      }
      await Promise.race([sleep(intervalMs), abort]).catch(() => undefined);
      if (aborted) throw aborted.error;
    }
  } finally {
    timer.abort();
  }
}
