import type { ReportKind } from '../schema';
import type { DbExecutor } from '../executor';

/** A report the gateway may serve at its stable URL (table report_artifacts). */
export interface ReportArtifact {
  key: string;
  sha256: string;
  contentType: string;
  model: string;
  kind: ReportKind;
  workflowId: string | null;
  createdAt: Date;
}

export type NewReportArtifact = Omit<ReportArtifact, 'createdAt'>;

/** Registers a stored report (idempotent: the key holds the content's sha256, so a key is registered once). */
export async function registerReportArtifact(db: DbExecutor, report: NewReportArtifact): Promise<void> {
  await db
    .insertInto('report_artifacts')
    .values({ key: report.key, sha256: report.sha256, content_type: report.contentType, model: report.model, kind: report.kind, workflow_id: report.workflowId })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
}

/** The registered report at `key`; undefined for any key that is not one (the gateway then answers 404). */
export async function findReportArtifact(db: DbExecutor, key: string): Promise<ReportArtifact | undefined> {
  const row = await db.selectFrom('report_artifacts').selectAll().where('key', '=', key).executeTakeFirst();
  return (
    row && { key: row.key, sha256: row.sha256, contentType: row.content_type, model: row.model, kind: row.kind, workflowId: row.workflow_id, createdAt: row.created_at }
  );
}

/** The report of a version's latest offline evaluation (`retrain report`), with what it compared. */
export interface VersionReport extends ReportArtifact {
  version: number;
  holdoutDay: string;
  /** The version the candidate was compared with; null: absolute gates only. */
  comparatorVersion: number | null;
}

export async function findVersionReport(db: DbExecutor, model: string, version?: number): Promise<VersionReport | undefined> {
  let query = db
    .selectFrom('evaluations as e')
    .innerJoin('model_versions as v', 'v.id', 'e.model_version_id')
    .innerJoin('report_artifacts as r', 'r.key', 'e.report_key')
    .innerJoin('datasets as d', 'd.id', 'e.dataset_id')
    .leftJoin('model_versions as c', 'c.id', 'e.champion_version_id')
    .select(['r.key', 'r.sha256', 'r.content_type', 'r.model', 'r.kind', 'r.workflow_id', 'r.created_at', 'v.version', 'd.partition_day', 'c.version as comparator_version'])
    .where('v.model', '=', model)
    .where('e.kind', '=', 'offline');
  if (version !== undefined) query = query.where('v.version', '=', version);
  const row = await query.orderBy('v.version', 'desc').orderBy('e.id', 'desc').limit(1).executeTakeFirst();
  if (!row) return undefined;
  return {
    key: row.key,
    sha256: row.sha256,
    contentType: row.content_type,
    model: row.model,
    kind: row.kind,
    workflowId: row.workflow_id,
    createdAt: row.created_at,
    version: row.version,
    holdoutDay: String(row.partition_day),
    comparatorVersion: row.comparator_version ?? null,
  };
}
