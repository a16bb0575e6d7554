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
 * Where a command finds each service: the one its own variables name (TEMPORAL_ADDRESS,
 * DATABASE_URL, S3_ENDPOINT, RETRAIN_GATEWAY_URL), else the one the running `retrain up`
 * recorded in the data directory. The stack file is read only when some service is not named.
 */
export async function resolveStackConnection(env: RetrainEnvironment): Promise<StackConnection> {
  const allExternal = env.temporal !== null && env.databaseUrl !== null && env.s3 !== null;
  const recorded = allExternal ? undefined : await readStackFile(env, missingServices(env));
  return {
    pid: recorded?.pid ?? process.pid,
    temporal: env.temporal ? { ...env.temporal, namespace: env.namespace } : recorded!.temporal,
    taskQueue: recorded?.taskQueue ?? env.taskQueue,
    databaseUrl: env.databaseUrl ?? recorded!.databaseUrl,
    s3: env.s3 ? { ...env.s3 } : recorded!.s3,
    gatewayUrl: env.gatewayUrl ?? recorded?.gatewayUrl,
  };
}

/** Connects to the services a command needs; see resolveStackConnection. */
export async function connectToStack(env: RetrainEnvironment): Promise<StackClient> {
  const connection = await resolveStackConnection(env);
  const temporal = await Connection.connect({ address: connection.temporal.address });
  const db = createDatabase(connection.databaseUrl, { poolSize: 2, applicationName: 'retrain-cli' });
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

function missingServices(env: RetrainEnvironment): string[] {
  return [env.temporal ? null : 'TEMPORAL_ADDRESS', env.databaseUrl ? null : 'DATABASE_URL', env.s3 ? null : 'S3_ENDPOINT'].filter((v): v is string => v !== null);
}
