/**
 * Starting the gateway as a service: `startGateway` builds its clients (database pool, S3)
 * from connection settings, as `retrain up` does; run this file directly (`tsx gateway/main.ts`)
 * for a standalone gateway configured by the environment:
 * DATABASE_URL, S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_BUCKET,
 * GATEWAY_PORT (8080), GATEWAY_HOST (127.0.0.1), RETRAIN_LOG_LEVEL (WARN), and its API keys:
 * RETRAIN_GATEWAY_API_KEYS_FILE, or RETRAIN_GATEWAY_AUTH=open to serve without keys.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { labelsChangedSignal } from '../workflows/definitions';
import { createDatabase } from '../lib/db/connection';
import { createS3Client } from '../lib/clients/s3-client';
import { loadEnvironment, type RetrainEnvironment, type S3Config } from '../lib/config/environment';
import { loadGatewayApiKeys } from '../lib/config/gateway-api-keys';
import { ArtifactStore } from '../lib/store/artifact-store';
import type { GatewayAuth } from './api-key-auth';
import { createGateway, type Gateway, type GatewayLimits } from './create-gateway';

export interface StartGatewayOptions {
  databaseUrl: string;
  s3: S3Config;
  /** API keys, or open (see gatewayAuthFromEnvironment). */
  auth: GatewayAuth;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  log?: Logger;
  limits?: Partial<GatewayLimits>;
  /** Connections in the gateway's pool (prediction-log writes, feedback, reloads). Default 4. */
  poolSize?: number;
  /**
   * Serves Label Studio's webhook (RETRAIN_LABELING_WEBHOOK_SECRET) and signals the waiting
   * labelingHandoff runs through this Temporal frontend.
   */
  labelingWebhook?: { secret: string; temporalAddress: string; namespace: string };
}

export interface RunningGateway {
  url: string;
  port: number;
  gateway: Gateway;
  /** Closes the gateway (draining requests and the prediction log), then its clients. */
  close(): Promise<void>;
}

/** Starts a gateway over the given database and S3 bucket; the schema must be migrated (`retrain up` does it). */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const db = createDatabase(options.databaseUrl, {
    poolSize: options.poolSize ?? 4,
    applicationName: 'retrain-gateway',
    onConnectionError: (err) => options.log?.warn({ err }, 'a database connection was lost; the next query reconnects'),
  });
  const s3 = createS3Client(options.s3);
  const temporal = options.labelingWebhook ? await Connection.connect({ address: options.labelingWebhook.temporalAddress }) : null;
  const temporalClient = temporal && new Client({ connection: temporal, namespace: options.labelingWebhook!.namespace });
  const gateway = createGateway({
    db,
    store: new ArtifactStore({ client: s3, bucket: options.s3.bucket }),
    databaseUrl: options.databaseUrl,
    auth: options.auth,
    log: options.log,
    limits: options.limits,
    ...(options.labelingWebhook && temporalClient
      ? {
          labelingWebhook: {
            secret: options.labelingWebhook.secret,
            async signal(workflowId, payload) {
              try {
                await temporalClient.workflow.getHandle(workflowId).signal(labelsChangedSignal, payload);
                return true;
              } catch (err) {
                if (err instanceof WorkflowNotFoundError) return false;
                throw err;
              }
            },
          },
        }
      : {}),
  });
  const closeClients = async () => {
    s3.destroy();
    await temporal?.close();
    await db.destroy();
  };
  try {
    const { url, port } = await gateway.start(options.port ?? 8080, options.host ?? '127.0.0.1');
    return {
      url,
      port,
      gateway,
      async close() {
        try {
          await gateway.close();
        } finally {
          await closeClients();
        }
      },
    };
  } catch (err) {
    await gateway.close().catch(() => undefined);
    await closeClients();
    throw err;
  }
}

/** A standalone gateway's settings from the environment: DATABASE_URL and S3_ENDPOINT (with its keys) are required. */
export function standaloneGatewaySettings(env: RetrainEnvironment): { databaseUrl: string; s3: S3Config } {
  const missing = [env.databaseUrl ? null : 'DATABASE_URL', env.s3 ? null : 'S3_ENDPOINT (with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)'].filter(Boolean);
  if (!env.databaseUrl || !env.s3) throw new Error(`${missing.join(' and ')} must be set to run the gateway on its own (or run \`retrain gateway\` next to \`retrain up\`)`);
  return { databaseUrl: env.databaseUrl, s3: { ...env.s3 } };
}

/**
 * How a gateway started from this environment authenticates: the keys of
 * RETRAIN_GATEWAY_API_KEYS_FILE, or open when RETRAIN_GATEWAY_AUTH=open. Neither configured is an
 * error, unless `openWhenUnconfigured` (`retrain up`, which serves on 127.0.0.1 only and says so).
 */
export function gatewayAuthFromEnvironment(env: RetrainEnvironment, options: { openWhenUnconfigured?: boolean } = {}): GatewayAuth {
  if (env.gatewayAuth?.mode === 'keys') return { mode: 'keys', keys: loadGatewayApiKeys(env.gatewayAuth.keysFile) };
  if (env.gatewayAuth?.mode === 'open' || options.openWhenUnconfigured) return { mode: 'open' };
  throw new Error(
    'the gateway needs API keys: set RETRAIN_GATEWAY_API_KEYS_FILE to a keys file (`retrain gateway-key create` makes entries), or RETRAIN_GATEWAY_AUTH=open to serve predict, infer and feedback without keys',
  );
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const env = loadEnvironment();
  const { databaseUrl, s3 } = standaloneGatewaySettings(env);
  const log = pino({ level: env.logLevel.toLowerCase(), base: { service: 'retrain-gateway' } }, pino.destination(2));
  const auth = gatewayAuthFromEnvironment(env);
  const running = await startGateway({ databaseUrl, s3, auth, port: env.gatewayListen.port, host: env.gatewayListen.host, log });
  process.stderr.write(`retrain gateway listening on ${running.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info({ signal }, 'stopping the gateway');
  await running.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
