/**
 * The ML gauges, per model and deployed version, read from Postgres when Prometheus scrapes
 * (at most once per `refreshIntervalMs`; scrapes in between get the same reading):
 *
 * - over the predictions of the last `windowSeconds` (the prediction log, every role):
 *   `retrain_online_accuracy_ratio` on the labels that arrived for them,
 *   `retrain_labelled_predictions` (how many of them have a label: the accuracy's sample),
 *   `retrain_labels_pending` (how many have none yet), `retrain_last_label_timestamp_seconds`,
 *   `retrain_predicted_class_ratio{class}` (the predicted class mix);
 * - `retrain_offline_accuracy_ratio`: the version's accuracy in its offline evaluation, what the
 *   online value is compared with;
 * - `retrain_version_deployed_timestamp_seconds{role}`: when the version took its role (how long
 *   a canary or a shadow has been waiting);
 * - `retrain_feature_drift_score{source,feature,method}`, `retrain_feature_drift_threshold`,
 *   `retrain_estimated_accuracy_ratio`: from each model's latest drift report (drift_reports),
 *   labelled with the champion version it judged.
 *
 * Versions that are no longer deployed disappear from every gauge at the next reading. A reading
 * that fails (Postgres down) empties the gauges and counts `retrain_model_metrics_refresh_failures_total`,
 * rather than exporting stale values or failing the whole scrape.
 */
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { latestDriftGauges, type DriftGauges } from '../db/repositories/drift-reports';
import { listDeployedVersions, offlineAccuracies, onlineOutcomes, type DeployedVersion, type OnlineOutcomes } from '../db/repositories/model-monitoring';
import type { Database } from '../db/schema';

export interface ModelGaugeOptions {
  db: Kysely<Database>;
  /** The window of the prediction log the online gauges cover (default 3600 s): longer than the models' label delay. */
  windowSeconds?: number;
  /** Readings are reused for this long (default 15 s). */
  refreshIntervalMs?: number;
  /** Told of a failed reading (the gauges are empty until the next one succeeds). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_MODEL_METRICS_WINDOW_SECONDS = 3600;
const DEFAULT_REFRESH_INTERVAL_MS = 15_000;

interface VersionReading {
  deployed: DeployedVersion;
  outcomes: OnlineOutcomes[];
  offlineAccuracy: number | undefined;
}

interface Reading {
  versions: VersionReading[];
  drift: DriftGauges;
}

/** Registers the model gauges in `registry`; they read Postgres on scrape. */
export function registerModelGauges(registry: Registry, options: ModelGaugeOptions): void {
  const windowSeconds = options.windowSeconds ?? DEFAULT_MODEL_METRICS_WINDOW_SECONDS;
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
  const failures = new Counter({
    name: 'retrain_model_metrics_refresh_failures_total',
    help: 'Readings of the model gauges from Postgres that failed (the gauges were empty until the next success)',
    registers: [registry],
  });
  let cached: { at: number; reading: Promise<Reading | null> } | null = null;
  const reading = (): Promise<Reading | null> => {
    if (!cached || performance.now() - cached.at >= refreshIntervalMs) {
      const next = read(options.db, windowSeconds).catch((err: unknown) => {
        failures.inc();
        options.onError?.(err);
        return null;
      });
      cached = { at: performance.now(), reading: next };
    }
    return cached.reading;
  };

  /** A gauge whose series are set afresh from each reading. */
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (set: (labels: Record<L, string>, value: number) => void, r: Reading) => void) => {
    const metric: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const r = await reading();
        metric.reset();
        if (r) fill((labels, value) => metric.set(labels as never, value), r);
      },
    });
  };
  const perVersion = (r: Reading) => uniqueVersions(r.versions);
  const labelsOf = (v: VersionReading) => ({ model: v.deployed.model, version: String(v.deployed.version) });

  new Gauge({
    name: 'retrain_model_metrics_window_seconds',
    help: 'The window of the prediction log (most recent seconds) the online model gauges cover',
    registers: [registry],
  }).set(windowSeconds);

  gauge('retrain_online_accuracy_ratio', 'Share of the window\'s labelled predictions of a deployed version that were right (at its decision threshold); absent while none is labelled', ['model', 'version'], (set, r) => {
    for (const v of perVersion(r)) {
      const labelled = sum(v.outcomes, (o) => o.labelled);
      if (labelled > 0) set(labelsOf(v), sum(v.outcomes, (o) => o.correct) / labelled);
    }
  });
  gauge('retrain_labelled_predictions', 'Predictions of the window of a deployed version that have a label (the online accuracy\'s sample)', ['model', 'version'], (set, r) => {
    for (const v of perVersion(r)) set(labelsOf(v), sum(v.outcomes, (o) => o.labelled));
  });
  gauge('retrain_labels_pending', 'Predictions of the window of a deployed version whose label has not arrived', ['model', 'version'], (set, r) => {
    for (const v of perVersion(r)) set(labelsOf(v), sum(v.outcomes, (o) => o.predictions - o.labelled));
  });
  gauge('retrain_last_label_timestamp_seconds', 'When the newest label for a prediction of the window of a deployed version was stored (Unix seconds); absent while none arrived', ['model', 'version'], (set, r) => {
    for (const v of perVersion(r)) {
      const last = Math.max(...v.outcomes.map((o) => o.lastLabelAt?.getTime() ?? -Infinity));
      if (Number.isFinite(last)) set(labelsOf(v), last / 1000);
    }
  });
  gauge('retrain_predicted_class_ratio', 'Share of the window\'s predictions of a deployed version per predicted class (the predicted class mix)', ['model', 'version', 'class'], (set, r) => {
    for (const v of perVersion(r)) {
      const total = sum(v.outcomes, (o) => o.predictions);
      if (total === 0) continue;
      for (const cls of [0, 1]) set({ ...labelsOf(v), class: String(cls) }, sum(v.outcomes.filter((o) => o.predictedLabel === cls), (o) => o.predictions) / total);
    }
  });
  gauge('retrain_offline_accuracy_ratio', 'Accuracy of a deployed version in its latest offline evaluation (its held-out day)', ['model', 'version'], (set, r) => {
    for (const v of perVersion(r)) if (v.offlineAccuracy !== undefined) set(labelsOf(v), v.offlineAccuracy);
  });
  gauge('retrain_version_deployed_timestamp_seconds', 'When a deployed version took its role (champion, canary, shadow), Unix seconds', ['model', 'version', 'role'], (set, r) => {
    for (const v of r.versions) if (v.deployed.since) set({ ...labelsOf(v), role: v.deployed.role }, v.deployed.since.getTime() / 1000);
  });
  const driftLabels = (d: DriftGauges['featureScores'][number]) => ({ model: d.model, version: String(d.version), source: d.source, feature: d.feature, method: d.method });
  gauge('retrain_feature_drift_score', "A feature's score in the latest drift report of a model's champion, by source (requests, ingested, prediction, label) and test", ['model', 'version', 'source', 'feature', 'method'], (set, r) => {
    for (const d of r.drift.featureScores) set(driftLabels(d), d.score);
  });
  gauge('retrain_feature_drift_threshold', 'The score above which the drift test flags a feature, by source and test', ['model', 'version', 'source', 'feature', 'method'], (set, r) => {
    for (const d of r.drift.featureScores) set(driftLabels(d), d.threshold);
  });
  gauge('retrain_estimated_accuracy_ratio', "A champion's accuracy estimated from its own probabilities while labels are pending (CBPE, latest drift report)", ['model', 'version'], (set, r) => {
    for (const e of r.drift.accuracy) if (e.estimated !== null) set({ model: e.model, version: String(e.version) }, e.estimated);
  });
}

async function read(db: Kysely<Database>, windowSeconds: number): Promise<Reading> {
  const deployed = await listDeployedVersions(db);
  const accuracies = await offlineAccuracies(db, [...new Set(deployed.map((d) => d.versionId))]);
  const outcomes = new Map<string, OnlineOutcomes[]>();
  for (const d of deployed) {
    if (!outcomes.has(d.versionId)) outcomes.set(d.versionId, await onlineOutcomes(db, d.model, d.versionId, windowSeconds));
  }
  const drift = await latestDriftGauges(db);
  return {
    versions: deployed.map((d) => ({ deployed: d, outcomes: outcomes.get(d.versionId)!, offlineAccuracy: accuracies.get(d.versionId) })),
    drift,
  };
}

/** One reading per version (a version deployed in two roles appears once). */
function uniqueVersions(versions: readonly VersionReading[]): VersionReading[] {
  const seen = new Set<string>();
  return versions.filter((v) => !seen.has(v.deployed.versionId) && Boolean(seen.add(v.deployed.versionId)));
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
