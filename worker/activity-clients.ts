import { mkdir } from 'node:fs/promises';
import type { ActivityDeps } from '../activities';
import { createDatabase } from '../lib/db/connection';
import { migrateToLatest } from '../lib/db/migrate';
import { createS3Client } from '../lib/clients/s3-client';
import { LabelStudioClient } from '../lib/clients/label-studio-client';
import type { RetrainEnvironment, S3Config } from '../lib/config/environment';
import type { NotifierSettings } from '../lib/notification/notification-delivery';
import { ArtifactStore } from '../lib/store/artifact-store';

/** Builds the clients activities need, once per process, after bringing the schema up to date. */
export async function createActivityClients(config: {
  databaseUrl: string;
  s3: S3Config;
  workDir: string;
  reportsBaseUrl?: string | null;
  notifier?: NotifierSettings;
  labeling?: RetrainEnvironment['labeling'];
}): Promise<{
  deps: ActivityDeps;
  close(): Promise<void>;
}> {
  const db = createDatabase(config.databaseUrl, { applicationName: 'retrain-worker' });
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const client = createS3Client(config.s3);
  await mkdir(config.workDir, { recursive: true });
  return {
    deps: {
      db,
      store: new ArtifactStore({ client, bucket: config.s3.bucket }),
      sourceS3: { client, bucket: config.s3.bucket },
      workDir: config.workDir,
      reportsBaseUrl: config.reportsBaseUrl ?? null,
      ...(config.notifier ? { notifier: config.notifier } : {}),
      labeling: labelingDeps(config.labeling),
    },
    async close() {
      client.destroy();
      await db.destroy();
    },
  };
}

/** The Label Studio client and webhook target of LABEL_STUDIO_URL, LABEL_STUDIO_API_TOKEN and RETRAIN_LABELING_WEBHOOK_*. */
export function labelingDeps(labeling: RetrainEnvironment['labeling'] | undefined): ActivityDeps['labeling'] {
  const webhook = labeling?.webhook?.url ? { url: labeling.webhook.url, secret: labeling.webhook.secret } : null;
  return { labelStudio: labeling?.labelStudio ? new LabelStudioClient(labeling.labelStudio) : null, webhook };
}
