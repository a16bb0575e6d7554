import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/2026-11-26-0001-initial';
import * as trainingPolicyAndReports from './migrations/2026-11-26-0002-training-policy-and-reports';
import * as predictionBatches from './migrations/2026-11-26-0003-prediction-batches';
import * as serving from './migrations/2026-11-26-0004-serving';
import * as approvals from './migrations/2026-11-26-0005-approvals';
import * as shadowRowsWithoutFeatures from './migrations/2026-11-26-0006-shadow-rows-without-features';
import * as uniqueServedRequestIds from './migrations/2026-12-01-0101-unique-served-request-ids';
import * as versionServingContracts from './migrations/2026-12-01-0201-version-serving-contracts';
import * as approverPolicies from './migrations/2026-12-01-0202-approver-policies';
import * as approvalRefusalCounts from './migrations/2026-12-01-0203-approval-refusal-counts';
import * as versionStageEvents from './migrations/2026-12-01-0301-version-stage-events';
import * as reportArtifacts from './migrations/2026-12-01-0302-report-artifacts';
import * as notificationsAndApprovalWaits from './migrations/2026-12-01-0401-notifications-and-approval-waits';
import * as labelBatches from './migrations/2026-12-01-0601-label-batches';
import * as driftReports from './migrations/2026-12-01-0701-drift-reports';

/** Migrations in code, keyed by their timestamp-prefixed file name (the order Kysely applies them in). */
const migrations: Record<string, Migration> = {
  '2026-11-26-0001-initial': initial,
  '2026-11-26-0002-training-policy-and-reports': trainingPolicyAndReports,
  '2026-11-26-0003-prediction-batches': predictionBatches,
  '2026-11-26-0004-serving': serving,
  '2026-11-26-0005-approvals': approvals,
  '2026-11-26-0006-shadow-rows-without-features': shadowRowsWithoutFeatures,
  '2026-12-01-0101-unique-served-request-ids': uniqueServedRequestIds,
  '2026-12-01-0201-version-serving-contracts': versionServingContracts,
  '2026-12-01-0202-approver-policies': approverPolicies,
  '2026-12-01-0203-approval-refusal-counts': approvalRefusalCounts,
  '2026-12-01-0301-version-stage-events': versionStageEvents,
  '2026-12-01-0302-report-artifacts': reportArtifacts,
  '2026-12-01-0401-notifications-and-approval-waits': notificationsAndApprovalWaits,
  '2026-12-01-0601-label-batches': labelBatches,
  '2026-12-01-0701-drift-reports': driftReports,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** A migrator over every migration, for stepping to a named one (`migrateTo`, `migrateDown`): what migration tests use. */
export function createMigrator<DB>(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider });
}

/** Brings the schema to the latest migration; throws naming the migration that failed. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<string[]> {
  const migrator = createMigrator(db);
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const name = failed?.migrationName ?? 'unknown';
    throw new Error(`database migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
