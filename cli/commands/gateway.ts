import pino from 'pino';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { gatewayAuthFromEnvironment, startGateway } from '../../gateway/main';
import { resolveStackConnection } from '../stack/stack-client';

/**
 * `retrain gateway`: an inference gateway on GATEWAY_HOST:GATEWAY_PORT over the named services, or
 * the running stack's; API keys from RETRAIN_GATEWAY_API_KEYS_FILE (or RETRAIN_GATEWAY_AUTH=open).
 */
export async function gatewayCommand(env: RetrainEnvironment): Promise<void> {
  const auth = gatewayAuthFromEnvironment(env);
  const connection = await resolveStackConnection(env);
  const log = pino({ level: env.logLevel.toLowerCase(), base: { service: 'retrain-gateway' } }, pino.destination(2));
  const running = await startGateway({
    databaseUrl: connection.databaseUrl,
    s3: connection.s3,
    auth,
    port: env.gatewayListen.port,
    host: env.gatewayListen.host,
    log,
    ...(env.labeling.webhook ? { labelingWebhook: { secret: env.labeling.webhook.secret, temporalAddress: connection.temporal.address, namespace: connection.temporal.namespace } } : {}),
  });
  process.stderr.write(`[retrain] gateway listening on ${running.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info({ signal }, 'stopping the gateway');
  await running.close();
}
