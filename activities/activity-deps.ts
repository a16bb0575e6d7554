import type { S3Client } from '@aws-sdk/client-s3';
import type { Kysely } from 'kysely';
import type { LabelStudioClient } from '../lib/clients/label-studio-client';
import type { Database } from '../lib/db/schema';
import type { NotifierSettings } from '../lib/notification/notification-delivery';
import type { LabelingWebhookTarget } from '../lib/labeling/label-studio-handoff';
import type { ArtifactStore } from '../lib/store/artifact-store';

/** Clients the worker builds once and hands to every activity. */
export interface ActivityDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  /** Client and default bucket for S3 data sources. */
  sourceS3: { client: S3Client; bucket: string };
  /** Scratch space for downloads; each activity cleans up its own subdirectory. */
  workDir: string;
  /**
   * The gateway's public base URL for report links (`<base>/reports/<key>`, stable, no expiry):
   * RETRAIN_REPORTS_BASE_URL, or the gateway `retrain up` runs. Null or unset: presigned S3 links (7 days).
   */
  reportsBaseUrl?: string | null;
  /** How often a run waiting for approval re-reads its model's approver policy, in seconds (default 600; tests shorten it). */
  approverPolicyRefreshSeconds?: number;
  /** Who is told of approval waits, escalations, rollbacks and promotions (RETRAIN_NOTIFY_*); unset or no targets: nobody. */
  notifier?: NotifierSettings;
  /**
   * Labeling hand-offs (models whose spec has `labels`): the Label Studio to send batches to (null:
   * none configured; batches then wait for `retrain labels import`) and where its webhooks go.
   */
  labeling?: { labelStudio: LabelStudioClient | null; webhook: LabelingWebhookTarget | null };
}
