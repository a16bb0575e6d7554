import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { quotedIdentifier } from '@duckdb/node-api';
import type { Kysely } from 'kysely';
import { withDuckDB } from '../data/duckdb';
import { loadFeatureTable } from '../data/feature-table-loader';
import { rowKeySql } from '../data/row-keys';
import { sourceRelation } from '../data/source-relation';
import { getDataset } from '../db/repositories/datasets';
import { createLabelBatch, listLabelItems, setLabelBatchProject, type LabelItem } from '../db/repositories/label-batches';
import { getModelVersion } from '../db/repositories/model-versions';
import type { Database } from '../db/schema';
import { decisionMargin, selectRowsForLabeling } from '../policy/labeling-selection';
import { scoreVersion } from '../scoring/score-version';
import type { ModelSpec } from '../spec/model-spec';
import type { LabelingSpec } from '../spec/labeling-spec';
import type { ArtifactStore } from '../store/artifact-store';
import { choiceResult } from './labeling-config';
import type { LabelStudioTaskInput } from '../clients/label-studio-client';

export interface LabelBatchPreparationDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

export interface LabelBatchPreparationInput {
  spec: ModelSpec & { labels: LabelingSpec };
  day: string;
  /** The snapshot whose rows are labeled (the run's newest training partition). */
  datasetId: string;
  /** The champion whose predictions rank the rows and become the pre-annotations; null: none yet. */
  championVersionId: string | null;
  /** The labelingHandoff run: one batch per run. */
  workflowId: string;
  pipelineWorkflowId: string;
}

/** What was chosen, as the workflow and the run's result show it. */
export interface PreparedLabelBatch {
  batchId: string;
  items: number;
  uncertainty: number;
  random: number;
  candidates: number;
  ranked: boolean;
  marginCutoff: number | null;
  /** The tasks as Label Studio imports them (JSON), in the store: for a Label Studio Retrain cannot reach. */
  tasksKey: string;
  created: boolean;
}

/**
 * Chooses a batch of rows to label from a snapshot (lib/policy/labeling-selection.ts: by the
 * champion's uncertainty plus a seeded random share), records the batch and its items (row key,
 * why chosen, the champion's probabilities) and writes the tasks file, each task carrying the row
 * and the champion's prediction as a pre-annotation. Idempotent per workflow id: a retry finds the
 * batch recorded and writes the same tasks file.
 */
export async function prepareLabelBatch(deps: LabelBatchPreparationDeps, input: LabelBatchPreparationInput): Promise<PreparedLabelBatch> {
  const { spec, day } = input;
  const labels = spec.labels;
  const dataset = await getDataset(deps.db, input.datasetId);
  const champion = input.championVersionId ? await getModelVersion(deps.db, input.championVersionId) : null;
  const dir = await mkdtemp(path.join(deps.workDir, `labeling-${spec.name}-`));
  try {
    const file = path.join(dir, `${dataset.id}.parquet`);
    await deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, file);
    const table = await loadFeatureTable([file], spec, { withLabel: false, withRowKeys: true });
    const positive = champion ? await scoreVersion(deps.store, champion, table) : null;
    const margins = positive ? Float64Array.from(positive, (p) => decisionMargin([1 - p, p])) : null;
    const selection = selectRowsForLabeling(table.rows, margins, { budget: labels.budget, randomShare: labels.randomShare, seed: labels.seed, day });
    const rowKeys = table.rowKeys!;
    const { batch, created } = await createLabelBatch(
      deps.db,
      {
        model: spec.name,
        workflowId: input.workflowId,
        pipelineWorkflowId: input.pipelineWorkflowId,
        day,
        datasetId: dataset.id,
        championVersionId: champion?.id ?? null,
        classes: labels.classes,
        annotatorsPerItem: labels.annotatorsPerItem,
        conflictRule: labels.conflict,
        selection: {
          method: selection.ranked ? 'uncertainty+random' : 'random (no champion to rank by)',
          budget: labels.budget,
          randomShare: labels.randomShare,
          seed: labels.seed,
          mixedSeed: selection.seed,
          candidates: selection.candidates,
          uncertainty: selection.uncertainty,
          random: selection.random,
          marginCutoff: selection.marginCutoff,
          championVersion: champion?.version ?? null,
        },
      },
      selection.rows.map((r) => ({
        rowKey: rowKeys[r.row]!,
        rowIndex: r.row,
        reason: r.reason,
        margin: r.margin === null || Number.isNaN(r.margin) ? null : r.margin,
        probabilities: positive ? [1 - positive[r.row]!, positive[r.row]!] : null,
      })),
    );
    const items = await listLabelItems(deps.db, batch.id);
    const rows = await readSnapshotRows(file, spec, items.map((i) => i.rowKey));
    const tasks = items.map((item) => labelStudioTask(item, rows.get(item.rowKey) ?? {}, spec, champion ? `${spec.name} v${champion.version}` : null));
    const ref = await deps.store.putBytes(`labeling/${spec.name}/batch-${batch.id}`, Buffer.from(JSON.stringify(tasks)), '.tasks.json');
    await setLabelBatchProject(deps.db, batch.id, batch.projectId, ref.key);
    const counted = (reason: LabelItem['reason']) => items.filter((i) => i.reason === reason).length;
    return {
      batchId: batch.id,
      items: items.length,
      uncertainty: counted('uncertainty'),
      random: counted('random'),
      candidates: table.rows,
      ranked: margins !== null,
      marginCutoff: selection.marginCutoff,
      tasksKey: ref.key,
      created,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A Label Studio task for an item: the row (declared columns as text), its ids, and the champion's prediction. */
export function labelStudioTask(item: LabelItem, row: Record<string, string | null>, spec: ModelSpec & { labels: LabelingSpec }, modelVersion: string | null): LabelStudioTaskInput {
  const text = Object.entries(row)
    .map(([column, value]) => `${column}: ${value ?? '(missing)'}`)
    .join('\n');
  const task: LabelStudioTaskInput = {
    data: { text, row, retrain_item: item.id, retrain_batch: item.batchId, retrain_model: spec.name, retrain_row_key: item.rowKey, retrain_reason: item.reason },
  };
  if (item.probabilities && modelVersion) {
    const probabilities = item.probabilities;
    const best = probabilities.reduce((b, p, k) => (p > probabilities[b]! ? k : b), 0);
    const className = spec.labels.classes.find((c) => c.value === best)?.name;
    if (className) task.predictions = [{ model_version: modelVersion, score: probabilities[best]!, result: [choiceResult(className)] }];
  }
  return task;
}

/** The declared columns (as text) of the snapshot rows with the given keys. */
async function readSnapshotRows(file: string, spec: ModelSpec, keys: readonly string[]): Promise<Map<string, Record<string, string | null>>> {
  const out = new Map<string, Record<string, string | null>>();
  if (keys.length === 0) return out;
  const columns = spec.schema.columns.map((c) => c.name);
  const select = columns.map((c) => `CAST(${quotedIdentifier(c)} AS VARCHAR) AS ${quotedIdentifier(c)}`).join(', ');
  const wanted = keys.map((k) => `'${k.replace(/'/g, "''")}'`).join(', ');
  const sql = `SELECT * FROM (SELECT ${select}, ${rowKeySql(spec)} AS __row_key FROM ${sourceRelation([file], 'parquet')}) WHERE __row_key IN (${wanted})`;
  await withDuckDB(async (connection) => {
    const reader = await connection.runAndReadAll(sql);
    for (const values of reader.getRows()) {
      const row: Record<string, string | null> = {};
      columns.forEach((c, i) => (row[c] = values[i] === null ? null : String(values[i])));
      out.set(String(values[columns.length]), row);
    }
  });
  return out;
}
