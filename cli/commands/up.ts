import { reportsBaseUrlFor, type RetrainEnvironment } from '../../lib/config/environment';
import pino from 'pino';
import { gatewayAuthFromEnvironment, startGateway } from '../../gateway/main';
import { PREFERRED_PORTS, preferredOrFree, startInProcessStack } from '../stack/in-process-stack';
import { removeStackFile, writeStackFile } from '../stack/stack-file';

/** `retrain up`: services plus a worker on every task queue, until Ctrl-C. */
export async function upCommand(env: RetrainEnvironment): Promise<void> {
  const log = (msg: string) => process.stderr.write(`[retrain] ${msg}\n`);
  // The local stack's gateway listens on 127.0.0.1: without a keys file it is open, and says so.
  const auth = gatewayAuthFromEnvironment(env, { openWhenUnconfigured: true });
  if (auth.mode === 'open') log('the gateway takes requests without API keys on 127.0.0.1 (set RETRAIN_GATEWAY_API_KEYS_FILE to require keys)');
  // The gateway's port is chosen first: report links name it (unless RETRAIN_REPORTS_BASE_URL names a public one).
  const gatewayPort = await preferredOrFree(PREFERRED_PORTS.gateway);
  const reportsBaseUrl = reportsBaseUrlFor(env, `http://127.0.0.1:${gatewayPort}`);
  const running = await startInProcessStack(env, log, { reportsBaseUrl });
  const { stack } = running;
  const gateway = await startGateway({
    databaseUrl: stack.databaseUrl,
    s3: stack.s3,
    auth,
    port: gatewayPort,
    host: '127.0.0.1',
    log: pino({ level: env.logLevel.toLowerCase(), base: { service: 'retrain-gateway' } }, pino.destination(2)),
    ...(env.labeling.webhook ? { labelingWebhook: { secret: env.labeling.webhook.secret, temporalAddress: stack.temporal.address, namespace: stack.temporal.namespace } } : {}),
  }).catch(async (err: unknown) => {
    await running.close();
    throw err;
  });
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  try {
    await writeStackFile(env, { ...running.connection, gatewayUrl: gateway.url });
    const workers = running.runWorkersUntil(Promise.race([stopped, stack.unexpectedExit]));
    process.stdout.write(
      [
        '',
        'Retrain is up.',
        `  Temporal UI   ${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows`,
        `  Gateway       ${gateway.url} (POST /v1/models/<model>/predict, /v2/models/<model>/infer, /metrics)`,
        `  Reports       ${reportsBaseUrl}/reports/<model>/<sha256>.html (retrain report --model <model> --version <n>)`,
        `  Temporal      ${stack.temporal.address} (namespace ${stack.temporal.namespace}, task queue ${env.taskQueue})`,
        `  Postgres      ${stack.databaseUrl}`,
        `  S3            ${stack.s3.endpoint} (bucket ${stack.s3.bucket})`,
        `  Data, logs    ${stack.dataDir}`,
        '',
        'Press Ctrl-C to stop everything.',
        '',
      ].join('\n'),
    );
    const signal = await workers;
    log(`${signal} received: stopping the worker and the services`);
  } finally {
    await removeStackFile(env);
    await gateway.close();
    await running.close();
  }
}
