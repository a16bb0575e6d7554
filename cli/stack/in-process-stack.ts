import net from 'node:net';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { startStack, type Stack } from '../../lib/dev-stack/stack';
import { createActivityClients } from '../../worker/activity-clients';
import { createRetrainWorkers, runWorkersUntil } from '../../worker/retrain-workers';
import { WorkerMetrics } from '../../worker/worker-metrics';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';
import type { StackConnection } from './stack-file';

/** Ports `retrain up` prefers, so links stay the same between runs; a busy one is replaced by a free one. */
export const PREFERRED_PORTS = { temporal: 7233, temporalUi: 8233, postgres: 55432, s3: 9000, gateway: 8080 } as const;

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The preferred port when it is free, else one the OS picks. */
export async function preferredOrFree(port: number): Promise<number> {
  return (await isPortFree(port)) ? port : findFreePort();
}

export interface InProcessStack {
  stack: Stack;
  client: Client;
  connection: StackConnection;
  /** Runs the workers until `until` settles. */
  runWorkersUntil<T>(until: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Starts the services (Temporal dev server, Postgres, S3, unless the environment
 * points at existing ones), migrates the database, and prepares a worker set
 * polling every task queue in this process. Report links point under `reportsBaseUrl`
 * (`retrain up` passes its gateway's URL); null: presigned S3 links.
 */
export async function startInProcessStack(env: RetrainEnvironment, log: (msg: string) => void, options: { reportsBaseUrl?: string | null } = {}): Promise<InProcessStack> {
  const ports = {
    temporal: await preferredOrFree(PREFERRED_PORTS.temporal),
    temporalUi: await preferredOrFree(PREFERRED_PORTS.temporalUi),
    postgres: await preferredOrFree(PREFERRED_PORTS.postgres),
    s3: await preferredOrFree(PREFERRED_PORTS.s3),
  };
  const stack = await startStack({ environment: env, searchAttributes: RETRAIN_SEARCH_ATTRIBUTE_KEYS, ports, stopOnSignal: false, log });
  try {
    const clients = await createActivityClients({
      databaseUrl: stack.databaseUrl,
      s3: stack.s3,
      workDir: path.join(env.dataDir, 'work'),
      reportsBaseUrl: options.reportsBaseUrl ?? env.reportsBaseUrl,
      // The worker's notifications link runs in the UI this stack serves (or TEMPORAL_UI_URL's).
      labeling: env.labeling,
      notifier: { targets: env.notifications.targets, maxAttempts: env.notifications.maxAttempts, temporalUiUrl: stack.temporal.uiUrl || null },
    });
    const connection = await Connection.connect({ address: stack.temporal.address });
    const nativeConnection = await NativeConnection.connect({ address: stack.temporal.address });
    const client = new Client({ connection, namespace: stack.temporal.namespace });
    return {
      stack,
      client,
      connection: {
        pid: process.pid,
        temporal: stack.temporal,
        taskQueue: env.taskQueue,
        databaseUrl: stack.databaseUrl,
        s3: stack.s3,
      },
      async runWorkersUntil(until) {
        // RETRAIN_WORKER_METRICS_PORT: the workers' metrics (they poll every queue, the control queue included).
        const { workerMetrics } = env;
        const metrics = workerMetrics.port === null ? null : new WorkerMetrics({ modelGauges: { db: clients.deps.db, windowSeconds: workerMetrics.modelWindowSeconds }, log });
        const server = metrics && workerMetrics.port !== null ? await metrics.serve(workerMetrics.host, workerMetrics.port) : null;
        if (server) log(`worker metrics at ${server.url}/metrics`);
        try {
          const workers = await createRetrainWorkers({
            connection: nativeConnection,
            namespace: stack.temporal.namespace,
            taskQueue: env.taskQueue,
            deps: clients.deps,
            activityObserver: metrics?.observeActivity,
          });
          return await runWorkersUntil(workers, until);
        } finally {
          await server?.close();
        }
      },
      async close() {
        await connection.close().catch(() => undefined);
        await nativeConnection.close().catch(() => undefined);
        await clients.close().catch(() => undefined);
        await stack.stop();
      },
    };
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
