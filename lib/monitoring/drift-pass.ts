import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { MonitoringSpec } from '../spec/monitoring-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { snapshotValueCounts, type SnapshotValueCounts } from '../data/feature-value-counts';
import { getDataset, type DatasetSnapshot } from '../db/repositories/datasets';
import { findServingChampion } from '../db/repositories/deployments';
import { findDriftReportByWorkflow, insertDriftReport, type DriftScoreRow, type StoredDriftReport } from '../db/repositories/drift-reports';
import { getModelVersion } from '../db/repositories/model-versions';
import { windowFeatureCounts, windowFeatureTypes, windowPredictionOutcomes, type PredictionLogWindow } from '../db/repositories/prediction-log-window';
import { datasetColumnTypes, findOfflineHoldoutDatasetId, listDatasetIdsRegisteredBetween, listVersionTrainingDatasetIds } from '../db/repositories/version-reference-datasets';
import type { Database } from '../db/schema';
import { driftCrossesTrigger, type TriggerCrossing } from '../policy/drift-trigger';
import { scoreVersion } from '../scoring/score-version';
import { binaryLabel } from '../stats/decision-threshold';
import { calibrate, fitIsotonicCalibration, type IsotonicCalibration } from '../stats/isotonic-calibration';
import type { ArtifactStore } from '../store/artifact-store';
import { classMixDrift, compareFeatures, summarizeDrift, type DriftReportBody, type PerformanceEstimate } from './drift-report';
import { renderDriftReport } from './drift-report-html';
import { ingestedSchemaChanges, requestSchemaChanges } from './schema-drift';

export interface DriftPassDeps {
  db: Kysely<Database>;
  store: ArtifactStore;
  workDir: string;
}

export interface DriftPassInput {
  spec: ModelSpec;
  /** The monitor pass's workflow id: one report per id. */
  workflowId: string;
  /** ISO timestamps; the window is [start, end). */
  windowStart: string;
  windowEnd: string;
}

/** What the workflow needs of a stored report. */
export interface DriftPassResult {
  reportId: string;
  status: DriftReportBody['status'];
  message: string;
  requests: number;
  tested: string[];
  drifted: string[];
  share: number;
  crossing: TriggerCrossing;
  predictionDrifted: boolean | null;
  labelDrifted: boolean | null;
  estimatedAccuracy: number | null;
  realizedAccuracy: number | null;
  labelled: number;
  report: { key: string; url: string } | null;
  /** True when this call found the report stored by an earlier attempt. */
  recorded: boolean;
}

/** The monitoring block of a spec, defaults filled in for a spec without one. */
export function monitoringOf(spec: ModelSpec): MonitoringSpec {
  return spec.monitoring ?? MonitoringSpec.parse({});
}

/**
 * One drift monitor pass for a model: the serving champion's training reference against the
 * window [start, end) of the prediction log and the partitions ingested in it; the report is
 * stored once per workflow id (drift_reports, drift_feature_scores) with its HTML in S3.
 * Statistics come from value counts aggregated in DuckDB and Postgres (never row objects).
 */
export async function runDriftPass(deps: DriftPassDeps, input: DriftPassInput): Promise<DriftPassResult> {
  const existing = await findDriftReportByWorkflow(deps.db, input.workflowId);
  if (existing) return resultOf(existing, await linkOf(deps.store, existing.reportKey), true);

  const started = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));
  const { spec } = input;
  const monitoring = monitoringOf(spec);
  const window: PredictionLogWindow = { model: spec.name, start: new Date(input.windowStart), end: new Date(input.windowEnd) };
  const body: DriftReportBody = {
    model: spec.name,
    champion: null,
    window: { start: input.windowStart, end: input.windowEnd },
    status: 'ok',
    message: '',
    requests: 0,
    reference: { datasets: [], rows: 0 },
    features: [],
    ingested: null,
    schema: [],
    prediction: null,
    label: null,
    performance: null,
    summary: { tested: [], drifted: [], share: 0 },
    timings,
  };

  const champion = await findServingChampion(deps.db, spec.name);
  if (!champion) {
    body.status = 'no_champion';
    body.message = `model '${spec.name}' has no serving champion: nothing to compare`;
    return store(deps, input, body, null, driftCrossesTrigger({ status: body.status, tested: [], drifted: [], share: 0 }, monitoring.trigger));
  }
  body.champion = { id: champion.id, version: champion.version };
  const contractNames = new Set(champion.contract.features.map((f) => f.name));
  const features = spec.features.filter((f) => contractNames.has(f.name));

  const dir = await mkdtemp(path.join(deps.workDir, `drift-${spec.name}-`));
  try {
    let t = performance.now();
    const referenceDatasets = await Promise.all((await listVersionTrainingDatasetIds(deps.db, champion.id)).map((id) => getDataset(deps.db, id)));
    const reference = await countsOf(deps, dir, referenceDatasets, spec);
    body.reference = { datasets: referenceDatasets.map((d) => ({ id: d.id, day: d.partitionDay })), rows: reference.rows };
    lap('reference', t);

    t = performance.now();
    const current = await windowFeatureCounts(deps.db, window, features);
    body.requests = current.rows;
    lap('requests', t);
    if (current.rows < monitoring.minRows) {
      body.status = 'insufficient_data';
      body.message = `${current.rows} requests in the window, fewer than monitoring.minRows (${monitoring.minRows}): not judged`;
    } else {
      body.features = compareFeatures('requests', features, reference.features, current.features, monitoring.tests);
      body.schema.push(...requestSchemaChanges(features, await windowFeatureTypes(deps.db, window), current.rows, reference.features));
    }

    t = performance.now();
    const ingestedIds = (await listDatasetIdsRegisteredBetween(deps.db, spec.name, window.start, window.end)).filter((id) => !referenceDatasets.some((d) => d.id === id));
    if (ingestedIds.length > 0) {
      const ingestedDatasets = await Promise.all(ingestedIds.map((id) => getDataset(deps.db, id)));
      const ingested = await countsOf(deps, dir, ingestedDatasets, spec);
      body.ingested = {
        datasets: ingestedDatasets.map((d) => ({ id: d.id, day: d.partitionDay })),
        rows: ingested.rows,
        features: compareFeatures('ingested', features, reference.features, ingested.features, monitoring.tests),
        label: classMixDrift(labelCounts(reference), labelCounts(ingested), monitoring.tests),
      };
      body.schema.push(...ingestedSchemaChanges(await datasetColumnTypes(deps.db, referenceDatasets.map((d) => d.id)), await datasetColumnTypes(deps.db, ingestedIds)));
    }
    lap('ingested', t);

    if (body.status === 'ok') {
      t = performance.now();
      const calibration = await championCalibration(deps, dir, champion.id, spec);
      const outcomes = await windowPredictionOutcomes(deps.db, window, champion.id);
      const predicted = [0, 0];
      const labels = [0, 0];
      let labelled = 0;
      let correct = 0;
      let expected = 0;
      let expectedOnLabelled = 0;
      let scored = 0;
      for (const o of outcomes) {
        predicted[o.predictedLabel] = (predicted[o.predictedLabel] ?? 0) + o.rows;
        const c = calibration ? calibrate(calibration.fit, o.probability) : o.probability;
        const chance = o.predictedLabel === 1 ? c : 1 - c;
        expected += chance * o.rows;
        scored += o.rows;
        if (o.label !== null) {
          labels[o.label] = (labels[o.label] ?? 0) + o.rows;
          labelled += o.rows;
          if (o.label === o.predictedLabel) correct += o.rows;
          expectedOnLabelled += chance * o.rows;
        }
      }
      const performanceEstimate: PerformanceEstimate = {
        predictions: scored,
        labelled,
        pending: scored - labelled,
        realized: labelled > 0 ? correct / labelled : null,
        estimated: scored > 0 ? expected / scored : null,
        estimatedOnLabelled: labelled > 0 ? expectedOnLabelled / labelled : null,
        calibration: calibration && { datasetId: calibration.datasetId, day: calibration.day, rows: calibration.rows, accuracy: calibration.accuracy },
      };
      body.performance = performanceEstimate;
      body.prediction = calibration ? classMixDrift(calibration.predictedCounts, predicted, monitoring.tests) : null;
      body.label = labelled > 0 ? classMixDrift(labelCounts(reference), labels, monitoring.tests) : null;
      lap('performance', t);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  body.summary = summarizeDrift([...body.features, ...(body.ingested?.features ?? [])]);
  const crossing = driftCrossesTrigger({ status: body.status, ...body.summary }, monitoring.trigger);
  if (body.status === 'ok') {
    body.message = `${body.summary.drifted.length} of ${body.summary.tested.length} features drifted${body.summary.drifted.length > 0 ? ` (${body.summary.drifted.join(', ')})` : ''}; ${crossing.crossed ? 'trigger crossed' : 'trigger not crossed'}`;
  }
  timings.total = Math.round(performance.now() - started);
  return store(deps, input, body, champion.id, crossing);
}

async function store(deps: DriftPassDeps, input: DriftPassInput, body: DriftReportBody, championId: string | null, crossing: TriggerCrossing): Promise<DriftPassResult> {
  const html = renderDriftReport(body, crossing);
  const ref = await deps.store.putBytes(`reports/${input.spec.name}/drift`, Buffer.from(html, 'utf8'), '.html', { contentType: 'text/html; charset=utf-8' });
  const scores: DriftScoreRow[] = [...body.features, ...(body.ingested?.features ?? [])].map((f) => ({
    source: f.source,
    feature: f.feature,
    method: f.result.method,
    score: f.result.score,
    pValue: f.result.pValue ?? null,
    threshold: f.result.threshold,
    drifted: f.result.drifted,
  }));
  for (const [source, mix] of [['prediction', body.prediction], ['label', body.label]] as const) {
    if (mix) scores.push({ source, feature: source === 'prediction' ? 'predicted_class' : 'label', method: mix.result.method, score: mix.result.score, pValue: mix.result.pValue ?? null, threshold: mix.result.threshold, drifted: mix.result.drifted });
  }
  const { report } = await insertDriftReport(deps.db, {
    model: input.spec.name,
    modelVersionId: championId,
    workflowId: input.workflowId,
    windowStart: new Date(input.windowStart),
    windowEnd: new Date(input.windowEnd),
    status: body.status,
    requests: body.requests,
    testedFeatures: body.summary.tested.length,
    driftedFeatures: body.summary.drifted.length,
    estimatedAccuracy: body.performance?.estimated ?? null,
    realizedAccuracy: body.performance?.realized ?? null,
    labelled: body.performance?.labelled ?? 0,
    triggerCrossed: crossing.crossed,
    triggerReason: crossing.reason,
    report: body,
    reportKey: ref.key,
    reportSha256: ref.sha256,
    scores,
  });
  return resultOf(report, await linkOf(deps.store, report.reportKey), false);
}

function resultOf(stored: StoredDriftReport, report: { key: string; url: string } | null, recorded: boolean): DriftPassResult {
  const body = stored.report as DriftReportBody;
  return {
    reportId: stored.id,
    status: stored.status,
    message: body.message,
    requests: stored.requests,
    tested: body.summary.tested,
    drifted: body.summary.drifted,
    share: body.summary.share,
    crossing: { crossed: stored.triggerCrossed, reason: stored.triggerReason },
    predictionDrifted: body.prediction ? body.prediction.result.drifted : null,
    labelDrifted: body.label ? body.label.result.drifted : null,
    estimatedAccuracy: stored.estimatedAccuracy,
    realizedAccuracy: stored.realizedAccuracy,
    labelled: stored.labelled,
    report,
    recorded,
  };
}

async function linkOf(store: ArtifactStore, key: string | null): Promise<{ key: string; url: string } | null> {
  return key ? { key, url: await store.presignedUrl(key) } : null;
}

/** Snapshots downloaded (checksums verified) and aggregated by DuckDB. */
async function countsOf(deps: DriftPassDeps, dir: string, datasets: readonly DatasetSnapshot[], spec: ModelSpec): Promise<SnapshotValueCounts> {
  const files = await Promise.all(
    datasets.map(async (d) => {
      const file = path.join(dir, `${d.id}.parquet`);
      await deps.store.downloadToFile({ key: d.snapshotKey, sha256: d.snapshotSha256 }, file);
      return file;
    }),
  );
  if (files.length === 0) return { rows: 0, features: {}, label: { negative: 0, positive: 0, missing: 0 } };
  return snapshotValueCounts(files, spec, spec.features, { withLabel: true });
}

function labelCounts(counts: SnapshotValueCounts): number[] {
  return counts.label ? [counts.label.negative, counts.label.positive] : [0, 0];
}

/**
 * CBPE's calibration: the champion scored on the day it was first evaluated on offline (labelled,
 * held out from its training), an isotonic fit of the labels on its probabilities there, and its
 * predicted class mix on that day (the prediction drift reference). Null when it has no offline
 * evaluation (then the raw probabilities are used).
 */
async function championCalibration(
  deps: DriftPassDeps,
  dir: string,
  championId: string,
  spec: ModelSpec,
): Promise<{ fit: IsotonicCalibration; datasetId: string; day: string; rows: number; accuracy: number; predictedCounts: number[] } | null> {
  const datasetId = await findOfflineHoldoutDatasetId(deps.db, championId);
  if (!datasetId) return null;
  const dataset = await getDataset(deps.db, datasetId);
  const file = path.join(dir, `holdout-${dataset.id}.parquet`);
  await deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, file);
  const table = await loadFeatureTable([file], spec);
  if (table.rows === 0 || !table.label) return null;
  const version = await getModelVersion(deps.db, championId);
  const probabilities = await scoreVersion(deps.store, version, table);
  const threshold = version.contract.decisionThreshold;
  const predictedCounts = [0, 0];
  let correct = 0;
  for (let i = 0; i < table.rows; i++) {
    const label = binaryLabel(probabilities[i]!, threshold);
    predictedCounts[label]!++;
    if (label === table.label[i]) correct++;
  }
  const fit = fitIsotonicCalibration(probabilities, table.label);
  return { fit, datasetId: dataset.id, day: dataset.partitionDay, rows: table.rows, accuracy: correct / table.rows, predictedCounts };
}
