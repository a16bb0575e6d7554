import { reportsBaseUrlFor, type RetrainEnvironment } from '../../lib/config/environment';
import { ALL_QUEUE_KINDS, type TaskQueueKind } from '../../worker/retrain-workers';
import { runWorkerProcess } from '../../worker/worker-process';
import { resolveStackConnection } from '../stack/stack-client';

/** `--queues control,data`: the kinds named, each checked against the known ones. */
export function parseQueueKinds(value: string): TaskQueueKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const kind of kinds) {
    if (!(ALL_QUEUE_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`unknown task queue kind '${kind}'; known: ${ALL_QUEUE_KINDS.join(', ')}`);
    }
  }
  return kinds as TaskQueueKind[];
}

/** `retrain worker`: polls the named queues of the services the environment names, or of the running stack. */
export async function workerCommand(env: RetrainEnvironment, options: { queues: string }): Promise<void> {
  const kinds = parseQueueKinds(options.queues);
  const connection = await resolveStackConnection(env);
  await runWorkerProcess({
    temporalAddress: connection.temporal.address,
    namespace: connection.temporal.namespace,
    taskQueue: connection.taskQueue,
    databaseUrl: connection.databaseUrl,
    s3: connection.s3,
    dataDir: env.dataDir,
    reportsBaseUrl: reportsBaseUrlFor(env, connection.gatewayUrl),
    kinds,
    metrics: env.workerMetrics.port === null ? null : { host: env.workerMetrics.host, port: env.workerMetrics.port, modelWindowSeconds: env.workerMetrics.modelWindowSeconds },
    notifier: { targets: env.notifications.targets, maxAttempts: env.notifications.maxAttempts, temporalUiUrl: connection.temporal.uiUrl || null },
    labeling: env.labeling,
    log: (msg) => process.stderr.write(`[retrain] ${msg}\n`),
  });
}
