import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

/**
 * The pipeline stage an activity belongs to (docs/architecture.md, "Every pipeline stage leads to
 * one folder"): what the worker's activity metrics group by. `run` is the run's own bookkeeping.
 */
export type ActivityStage = 'run' | 'ingest' | 'train' | 'evaluate' | 'promote' | 'approval' | 'shadow' | 'canary' | 'batch-predict' | 'drift' | 'rollback' | 'notify' | 'labeling';

/** One attempt of an activity, as it ended in this worker. */
export interface ActivityObservation {
  stage: ActivityStage;
  /** The activity type name (bounded: the keys of the factories). */
  activity: string;
  seconds: number;
  outcome: 'completed' | 'failed' | 'cancelled';
  /**
   * For a failure: the permanent error type it failed with (`SchemaValidation`, ...: a
   * non-retryable ApplicationFailure's type), or `retryable` (Temporal retries it); else null.
   */
  errorType: string | null;
}

/** Told of every activity attempt; the worker's metrics are one (worker/worker-metrics.ts). Must not throw. */
export type ActivityObserver = (observation: ActivityObservation) => void;

// Activity arguments are whatever the workflow sent; `never[]` accepts every function signature.
type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * The same activities, each attempt timed and reported to `observe` with its stage and how it
 * ended. Applied outside withPermanentFailures, so a permanent error is seen with its type.
 */
export function observeActivities<T extends ActivityFunctions>(stage: ActivityStage, activities: T, observe: ActivityObserver): T {
  const wrapped: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [activity, body] of Object.entries(activities)) {
    const run = body as (...args: unknown[]) => Promise<unknown>;
    wrapped[activity] = async (...args) => {
      const started = performance.now();
      const report = (outcome: ActivityObservation['outcome'], errorType: string | null) =>
        observe({ stage, activity, seconds: (performance.now() - started) / 1000, outcome, errorType });
      try {
        const result = await run(...args);
        report('completed', null);
        return result;
      } catch (err) {
        if (err instanceof CancelledFailure) report('cancelled', null);
        else report('failed', err instanceof ApplicationFailure && err.nonRetryable ? (err.type ?? 'ApplicationFailure') : 'retryable');
        throw err;
      }
    };
  }
  return wrapped as unknown as T;
}
