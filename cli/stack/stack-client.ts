import { Client, Connection } from '@temporalio/client';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kysely } from 'kysely';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { createDatabase } from '../../lib/db/connection';
import type { Database } from '../../lib/db/schema';
import { createS3Client } from '../../lib/clients/s3-client';
import { readStackFile, type StackConnection } from './stack-file';

export interface StackClient {
  connection: StackConnection;
  client: Client;
  db: Kysely<Database>;
  s3: S3Client;
  close(): Promise<void>;
}

/**
 * Connects to the services a command needs: those named by TEMPORAL_ADDRESS,
 * DATABASE_URL and S3_ENDPOINT when all three are set, else the stack that
 * `retrain up` recorded in the data directory.
 */
export async function connectToStack(env: RetrainEnvironment): Promise<StackClient> {
  const connection: StackConnection =
    env.TEMPORAL_ADDRESS && env.DATABASE_URL && env.S3_ENDPOINT
      ? {
          pid: process.pid,
          temporal: { address: env.TEMPORAL_ADDRESS, uiUrl: env.TEMPORAL_UI_URL ?? '', namespace: env.TEMPORAL_NAMESPACE },
          taskQueue: env.RETRAIN_TASK_QUEUE,
          databaseUrl: env.DATABASE_URL,
          s3: {
            endpoint: env.S3_ENDPOINT,
            region: env.S3_REGION,
            accessKeyId: env.S3_ACCESS_KEY_ID ?? '',
            secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? '',
            bucket: env.S3_BUCKET,
          },
          gatewayUrl: env.RETRAIN_GATEWAY_URL,
        }
      : await readStackFile(env);
  const temporal = await Connection.connect({ address: connection.temporal.address });
  const db = createDatabase(connection.databaseUrl, 2);
  const s3 = createS3Client(connection.s3);
  return {
    connection,
    client: new Client({ connection: temporal, namespace: connection.temporal.namespace }),
    db,
    s3,
    async close() {
      s3.destroy();
      await db.destroy();
      await temporal.close();
    },
  };
}
