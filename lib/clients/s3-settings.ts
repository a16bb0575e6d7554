import { z } from 'zod';
import type { S3Connection } from './s3-client';

/** Where artifacts go: a server and the bucket on it. */
export interface S3Config extends S3Connection {
  bucket: string;
}

/** Credentials of the servers started here when the environment names none (local only, never exposed). */
const LOCAL_ACCESS_KEY_ID = 'retrain';
const LOCAL_SECRET_ACCESS_KEY = 'retrain-local-secret';

const emptyAsUnset = (value: unknown): unknown => (value === '' ? undefined : value);

const S3Environment = z
  .object({
    S3_ENDPOINT: z.preprocess(emptyAsUnset, z.url({ protocol: /^https?$/ }).optional()),
    S3_ACCESS_KEY_ID: z.preprocess(emptyAsUnset, z.string().optional()),
    S3_SECRET_ACCESS_KEY: z.preprocess(emptyAsUnset, z.string().optional()),
    S3_REGION: z.preprocess(emptyAsUnset, z.string().default('us-east-1')),
    S3_BUCKET: z.preprocess(
      emptyAsUnset,
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
        .default('retrain'),
    ),
  })
  .refine((env) => !env.S3_ENDPOINT || (env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY), {
    message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required when S3_ENDPOINT is set',
  });

/** The S3 settings in the environment: an external server (`S3_ENDPOINT` set), or one to start locally. */
export type S3Settings =
  | { source: 'S3_ENDPOINT'; config: S3Config }
  | { source: 'local'; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };

/**
 * Reads S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION (default us-east-1)
 * and S3_BUCKET (default retrain); throws naming the variable that is wrong.
 */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const parsed = S3Environment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'S3 settings'}: ${issue.message}`);
    throw new Error(`invalid S3 configuration: ${problems.join('; ')}`);
  }
  const { S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION, S3_BUCKET } = parsed.data;
  if (S3_ENDPOINT && S3_ACCESS_KEY_ID && S3_SECRET_ACCESS_KEY) {
    return {
      source: 'S3_ENDPOINT',
      config: { endpoint: S3_ENDPOINT, region: S3_REGION, accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, bucket: S3_BUCKET },
    };
  }
  return {
    source: 'local',
    bucket: S3_BUCKET,
    region: S3_REGION,
    accessKeyId: S3_ACCESS_KEY_ID ?? LOCAL_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY ?? LOCAL_SECRET_ACCESS_KEY,
  };
}
