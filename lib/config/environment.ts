import path from 'node:path';
import { z } from 'zod';

const Environment = z.object({
  /** Where the embedded stack keeps its state (Temporal db, Postgres cluster, S3 objects, logs). */
  RETRAIN_DATA_DIR: z.string().default('.retrain'),
  /** Control task queue; data, train and eval queues are derived from it. */
  RETRAIN_TASK_QUEUE: z.string().default('retrain'),
  /** An existing Temporal frontend (host:port); unset: the CLI dev server is started. */
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** Web UI base URL to print for an external Temporal (the dev server's is known). */
  TEMPORAL_UI_URL: z.string().url().optional(),
  /** An existing Postgres; unset: a local Postgres is started in the data directory. */
  DATABASE_URL: z.string().optional(),
  /** An existing S3-compatible endpoint; unset: an S3 server is started (see RETRAIN_S3_SERVER). */
  S3_ENDPOINT: z.string().url().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().default('retrain'),
  /** Worker and workflow log level (pino JSON on stderr). */
  RETRAIN_LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('WARN'),
  /** An existing inference gateway (base URL), for commands that talk to one (`retrain traffic`); `retrain up` records its own. */
  RETRAIN_GATEWAY_URL: z.string().url().optional(),
  /** Which S3 server the stack starts when S3_ENDPOINT is unset. */
  RETRAIN_S3_SERVER: z.enum(['embedded', 'versitygw']).default('embedded'),
});

export type RetrainEnvironment = Readonly<z.infer<typeof Environment> & { dataDir: string }>;

/** Reads the process environment once into a frozen object; a bad value fails fast, naming the variable. */
export function loadEnvironment(env: NodeJS.ProcessEnv = process.env): RetrainEnvironment {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  if (parsed.data.S3_ENDPOINT && (!parsed.data.S3_ACCESS_KEY_ID || !parsed.data.S3_SECRET_ACCESS_KEY)) {
    throw new Error('S3_ENDPOINT is set but S3_ACCESS_KEY_ID or S3_SECRET_ACCESS_KEY is missing');
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.RETRAIN_DATA_DIR) });
}
