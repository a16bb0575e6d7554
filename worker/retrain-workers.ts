import path from 'node:path';
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { activitiesByQueue, type ActivityDeps, type ActivityObserver } from '../activities';
import { taskQueuesFor } from '../workflows/definitions';
import { approvalRefusalSinks } from './approval-refusal-sink';

export type TaskQueueKind = 'control' | 'data' | 'train' | 'eval';
export const ALL_QUEUE_KINDS: readonly TaskQueueKind[] = ['control', 'data', 'train', 'eval'];

/** Path of the workflow entry point that Temporal bundles into its sandbox. */
export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/** How many activities of each kind one process runs at once (2 cores: training gets one slot). */
const concurrencyByKind: Record<TaskQueueKind, number> = { control: 10, data: 4, train: 1, eval: 2 };

export interface RetrainWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  /** The control queue; the data, train and eval queues are derived from it. */
  taskQueue: string;
  deps: ActivityDeps;
  /** Which queues this process polls: all of them by default; a GPU machine may poll only `train`. */
  kinds?: readonly TaskQueueKind[];
  /** Told of every activity attempt (the worker's metrics: WorkerMetrics.observeActivity). */
  activityObserver?: ActivityObserver;
  /** A prebuilt bundle saves the bundling time when many workers start in one process (tests). */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

/**
 * One worker per task queue kind, sharing one connection and the activity clients; each
 * registers only its queue's activities (activities/index.ts), and the control worker also
 * runs the workflows and their sinks.
 */
export async function createRetrainWorkers(options: RetrainWorkersOptions): Promise<Worker[]> {
  const queues = taskQueuesFor(options.taskQueue);
  const kinds = options.kinds ?? ALL_QUEUE_KINDS;
  return Promise.all(
    kinds.map((kind) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: queues[kind],
        activities: activitiesByQueue[kind](options.deps, options.activityObserver),
        maxConcurrentActivityTaskExecutions: concurrencyByKind[kind],
        ...(kind === 'control'
          ? {
              ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
              // Where refused approval requests are recorded from the Update validators (which cannot run activities).
              sinks: approvalRefusalSinks(options.deps),
            }
          : {}),
      }),
    ),
  );
}

/** Runs the workers until `until` settles (then shuts them down) or until one of them fails. */
export async function runWorkersUntil<T>(workers: Worker[], until: Promise<T>): Promise<T> {
  const [first, ...rest] = workers;
  if (!first) throw new Error('no workers to run');
  // Nest runUntil so every worker is shut down when `until` settles.
  return rest.reduce<Promise<T>>((inner, worker) => worker.runUntil(inner), first.runUntil(until));
}
