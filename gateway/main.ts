/**
 * Starting the gateway as a service: `startGateway` builds its clients (database pool, S3)
 * from connection settings, as `retrain up` does; run this file directly (`tsx gateway/main.ts`)
 * for a standalone gateway configured by the environment:
 * DATABASE_URL, S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_BUCKET,
 * GATEWAY_PORT (8080), GATEWAY_HOST (127.0.0.1), RETRAIN_LOG_LEVEL (WARN).
 */
import pino, { type Logger } from 'pino';
import { z } from 'zod';
import { createDatabase } from '../lib/db/connection';
import { createS3Client } from '../lib/clients/s3-client';
import { s3SettingsFromEnv, type S3Config } from '../lib/clients/s3-settings';
import { ArtifactStore } from '../lib/store/artifact-store';
import { createGateway, type Gateway, type GatewayLimits } from './create-gateway';

export interface StartGatewayOptions {
  databaseUrl: string;
  s3: S3Config;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  log?: Logger;
  limits?: Partial<GatewayLimits>;
  /** Connections in the gateway's pool (prediction-log writes, feedback, reloads). Default 4. */
  poolSize?: number;
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
  const db = createDatabase(options.databaseUrl, options.poolSize ?? 4);
  const s3 = createS3Client(options.s3);
  const gateway = createGateway({
    db,
    store: new ArtifactStore({ client: s3, bucket: options.s3.bucket }),
    databaseUrl: options.databaseUrl,
    log: options.log,
    limits: options.limits,
  });
  const closeClients = async () => {
    s3.destroy();
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

const GatewayEnvironment = z.object({
  DATABASE_URL: z.string({ error: 'is required (a postgres:// URL)' }).regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL'),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  RETRAIN_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
});

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const parsed = GatewayEnvironment.safeParse(process.env);
  if (!parsed.success) throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const env = parsed.data;
  const s3 = s3SettingsFromEnv();
  if (s3.source !== 'S3_ENDPOINT') throw new Error('S3_ENDPOINT (with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY) is required to run the gateway on its own');
  const log = pino({ level: env.RETRAIN_LOG_LEVEL.toLowerCase(), base: { service: 'retrain-gateway' } }, pino.destination(2));
  const running = await startGateway({ databaseUrl: env.DATABASE_URL, s3: s3.config, port: env.GATEWAY_PORT, host: env.GATEWAY_HOST, log });
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
