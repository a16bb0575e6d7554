import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { registerSearchAttributes } from '../lib/clients/register-search-attributes';
import type { RetrainEnvironment, S3Config } from '../lib/config/environment';
import type { NotifierSettings } from '../lib/notification/notification-delivery';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../workflows/definitions';
import { createActivityClients } from './activity-clients';
import { createRetrainWorkers, runWorkersUntil, type TaskQueueKind } from './retrain-workers';
import { WorkerMetrics } from './worker-metrics';

export interface WorkerProcessOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  s3: S3Config;
  dataDir: string;
  /** Where report links point (the gateway's public base URL); null: presigned S3 links. */
  reportsBaseUrl: string | null;
  kinds: readonly TaskQueueKind[];
  /** Serve the worker's metrics at `http://host:port/metrics` (RETRAIN_WORKER_METRICS_*); null: none. */
  metrics: { host: string; port: number; modelWindowSeconds: number } | null;
  /** The webhooks told of promotion events, with the Temporal UI's address for their links. */
  notifier?: NotifierSettings;
  log: (msg: string) => void;
  /** Label Studio and its webhook, for labeling hand-offs. */
  labeling?: RetrainEnvironment['labeling'];
}

/**
 * A worker process joining an existing cluster: more machines mean more of
 * these on the same task queues (e.g. `--queues train` on a GPU machine).
 * Runs until SIGINT/SIGTERM, then drains and closes its connections.
 */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<void> {
  const connection = await Connection.connect({ address: options.temporalAddress });
  try {
    await registerSearchAttributes(connection, options.namespace, RETRAIN_SEARCH_ATTRIBUTE_KEYS);
  } finally {
    await connection.close();
  }
  const clients = await createActivityClients({
    databaseUrl: options.databaseUrl,
    s3: options.s3,
    workDir: path.join(options.dataDir, 'work'),
    reportsBaseUrl: options.reportsBaseUrl,
    notifier: options.notifier,
    labeling: options.labeling,
  });
  const nativeConnection = await NativeConnection.connect({ address: options.temporalAddress });
  const metrics = options.metrics
    ? new WorkerMetrics({
        // Only a worker of the control queue reads the model gauges: one series per model and version, not one per worker.
        modelGauges: options.kinds.includes('control') ? { db: clients.deps.db, windowSeconds: options.metrics.modelWindowSeconds } : null,
        log: options.log,
      })
    : null;
  const metricsServer = metrics && options.metrics ? await metrics.serve(options.metrics.host, options.metrics.port) : null;
  try {
    const workers = await createRetrainWorkers({
      connection: nativeConnection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      deps: clients.deps,
      kinds: options.kinds,
      activityObserver: metrics?.observeActivity,
    });
    if (metricsServer) options.log(`worker metrics at ${metricsServer.url}/metrics`);
    options.log(`worker polling ${options.kinds.join(', ')} queues of ${options.taskQueue} at ${options.temporalAddress}`);
    const signal = await runWorkersUntil(
      workers,
      new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
    );
    options.log(`${signal} received: worker stopped`);
  } finally {
    await metricsServer?.close();
    await nativeConnection.close();
    await clients.close();
  }
}
