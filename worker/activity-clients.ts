import { mkdir } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import type { ActivityDeps } from '../activities';
import { createDatabase } from '../lib/db/connection';
import { migrateToLatest } from '../lib/db/migrate';
import { ArtifactStore } from '../lib/store/artifact-store';

export interface S3Connection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

/** Builds the clients activities need, once per process, after bringing the schema up to date. */
export async function createActivityClients(config: { databaseUrl: string; s3: S3Connection; workDir: string }): Promise<{
  deps: ActivityDeps;
  close(): Promise<void>;
}> {
  const db = createDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const client = new S3Client({
    endpoint: config.s3.endpoint,
    region: config.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey },
  });
  await mkdir(config.workDir, { recursive: true });
  return {
    deps: {
      db,
      store: new ArtifactStore({ client, bucket: config.s3.bucket }),
      sourceS3: { client, bucket: config.s3.bucket },
      workDir: config.workDir,
    },
    async close() {
      client.destroy();
      await db.destroy();
    },
  };
}
