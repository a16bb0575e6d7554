/**
 * The gateway's Prometheus metrics (`/metrics`), named as Prometheus's guide asks: the
 * `retrain_gateway_` prefix, the base unit in the name, `_total` on counters, `_ratio` for values
 * in 0..1. docs/monitoring.md lists them; deploy/ holds the alerts and the dashboard that read them.
 *
 * Every series about predictions carries the `version` that answered besides the `role`, so a
 * dashboard sees v1 hand over to v2 instead of one `role="champion"` line changing meaning. To keep
 * the number of series bounded, only the versions currently deployed are exported: when a
 * (version, role) pair stops being served its gauges go at once and its counters and histograms a
 * grace period later (default 60 s, long enough for Prometheus to scrape their last values). No
 * label takes a value from a request (ids, keys, features): requests refused before a model was
 * resolved are labelled `none`, and an unknown model name never becomes a label value.
 *
 * Feedback carries the model, not the version: the gateway remembers which ids it served, not
 * which version answered each (that is joined in Postgres; the worker's
 * `retrain_labelled_predictions{model,version}` counts labels per version).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Label value for requests refused before a model was resolved or a version chosen. */
export const NO_LABEL = 'none';

/**
 * Request latency buckets in seconds, from 50 µs: a gateway answers most requests in well under a
 * millisecond (with 0.5 ms as the lowest bucket, 88 % of requests fell into it).
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.00005, 0.0001, 0.00015, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** Buckets of the predicted probability of the positive class: twenty of 0.05. */
export const SCORE_BUCKETS = Array.from({ length: 20 }, (_, i) => Number(((i + 1) * 0.05).toFixed(2)));

/** The version whose scoring an error reports, so the failed request is counted against it (see GatewayMetrics.failed). */
const failedVersions = new WeakMap<object, ServedVersionLabels>();

/** Marks `err` as the failure of `served`'s scoring; returns it, to be thrown. */
export function attributeFailure<E extends object>(err: E, served: ServedVersionLabels): E {
  failedVersions.set(err, { version: served.version, role: served.role });
  return err;
}

/** How long series of a (version, role) pair that is no longer served stay exported (their last increments get scraped). */
const DEFAULT_RETIRED_SERIES_GRACE_MS = 60_000;

/** A version in a role, as the metrics label it. */
export interface ServedVersionLabels {
  readonly version: number;
  readonly role: string;
}

/** What a model's route serves, for the metrics: each version in its role, and the canary's share. */
export interface ServedVersionsOfModel {
  readonly champion: ServedVersionLabels | null;
  readonly canary: ServedVersionLabels | null;
  readonly canaryWeight: number;
  readonly shadow: ServedVersionLabels | null;
}

/** A score histogram bound to one (model, version, role): observe() without a label lookup per instance. */
export interface ScoreObserver {
  observe(probability: number): void;
}

export interface GatewayMetricsOptions {
  /** See the module doc; tests set 0. */
  retiredSeriesGraceMs?: number;
}

/** The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process, e.g. in tests). */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** 1 for each (version, role) a model serves now: what the other per-version series can be joined on. */
  readonly servedVersions = new Gauge({
    name: 'retrain_gateway_served_version_info',
    help: 'Versions each model serves now, by role (champion, canary, shadow); always 1',
    labelNames: ['model', 'version', 'role'] as const,
    registers: [this.registry],
  });

  /** Prediction requests (predict and infer) by model, version, serving role and HTTP status. */
  readonly requests = new Counter({
    name: 'retrain_gateway_requests_total',
    help: 'Prediction requests (predict, infer) by model, version and role that answered (champion, canary; none when refused before routing) and HTTP status',
    labelNames: ['model', 'version', 'role', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'retrain_gateway_request_duration_seconds',
    help: 'Time from the start of a prediction handler to its answer, by model, version and role, for answered requests',
    labelNames: ['model', 'version', 'role'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  /** P(positive) of every scored instance, by the version and role that scored it (shadow included). */
  readonly predictionScores = new Histogram({
    name: 'retrain_gateway_prediction_score_ratio',
    help: 'Predicted probability of the positive class per scored instance, by model, version and role (champion, canary, shadow)',
    labelNames: ['model', 'version', 'role'] as const,
    buckets: SCORE_BUCKETS,
    registers: [this.registry],
  });

  /** Model calls that failed (an error, or a probability that is not finite), by the version and role that failed. */
  readonly scoringFailures = new Counter({
    name: 'retrain_gateway_scoring_failures_total',
    help: 'Instances a version failed to score, by model, version and role (a failed canary falls back to the champion; a failed champion answers 500)',
    labelNames: ['model', 'version', 'role'] as const,
    registers: [this.registry],
  });

  /** Mirrored requests by model, shadow version and outcome (ok, error, skipped). */
  readonly shadowPredictions = new Counter({
    name: 'retrain_gateway_shadow_requests_total',
    help: 'Requests mirrored to the shadow version, by model, version and outcome (ok, error, skipped when the mirror backlog was full)',
    labelNames: ['model', 'version', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly feedbackRequests = new Counter({
    name: 'retrain_gateway_feedback_requests_total',
    help: 'Feedback requests by model (none when refused before the model was resolved) and HTTP status (202 taken, 200 repeated, 404 not served, 409 conflict, ...)',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  readonly labels = new Counter({
    name: 'retrain_gateway_labels_total',
    help: 'Labels taken through feedback (202), by model and label value: the live label rate',
    labelNames: ['model', 'label'] as const,
    registers: [this.registry],
  });

  readonly canaryWeight = new Gauge({
    name: 'retrain_gateway_canary_weight_ratio',
    help: 'Share of the traffic routed to the canary (0..1), by model and canary version; absent when no canary is deployed',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  /** Read on scrape; the gateway points it at its prediction log. */
  predictionLogQueueSize: () => number = () => 0;

  readonly predictionLogQueue: Gauge = new Gauge({
    name: 'retrain_gateway_prediction_log_queue_rows',
    help: 'Prediction-log rows waiting to be written to Postgres',
    registers: [this.registry],
    collect: (): void => this.predictionLogQueue.set(this.predictionLogQueueSize()),
  });

  readonly predictionLogRows = new Counter({
    name: 'retrain_gateway_prediction_log_rows_total',
    help: 'Prediction-log rows by outcome: written, or dropped (rejected by Postgres as invalid, or refused because the log was full)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly modelSwaps = new Counter({
    name: 'retrain_gateway_model_swaps_total',
    help: 'Routing changes applied per model (a new deployment revision or spec, with every session loaded)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly modelLoadFailures = new Counter({
    name: 'retrain_gateway_model_load_failures_total',
    help: 'Deployment changes that could not be applied (a version failed to load or does not fit the spec); the previous routing stays',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly deploymentRevision = new Gauge({
    name: 'retrain_gateway_deployment_revision',
    help: 'Deployment revision each model is served at',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  /** Per model: the "version/role" pairs served now. */
  private readonly served = new Map<string, Set<string>>();
  private readonly retirements = new Set<NodeJS.Timeout>();
  private readonly retiredSeriesGraceMs: number;

  constructor(options: GatewayMetricsOptions = {}) {
    this.retiredSeriesGraceMs = options.retiredSeriesGraceMs ?? DEFAULT_RETIRED_SERIES_GRACE_MS;
    collectDefaultMetrics({ register: this.registry, prefix: 'retrain_gateway_' });
  }

  /** An answered prediction request: counted, and its latency observed. */
  answered(model: string, served: ServedVersionLabels, seconds: number): void {
    const version = String(served.version);
    this.requests.inc({ model, version, role: served.role, status: '200' });
    this.requestDuration.observe({ model, version, role: served.role }, seconds);
  }

  /**
   * A prediction request that failed with `status`, labelled with the version and role whose
   * scoring failed when the error was attributed to one (attributeFailure), else `none`: it
   * was refused before a version was chosen.
   */
  failed(model: string, err: unknown, status: number): void {
    const served = typeof err === 'object' && err !== null ? failedVersions.get(err) : undefined;
    this.requests.inc({ model, version: served ? String(served.version) : NO_LABEL, role: served?.role ?? NO_LABEL, status: String(status) });
  }

  /** `instances` rows the version failed to score. */
  scoringFailed(model: string, served: ServedVersionLabels, instances: number): void {
    this.scoringFailures.inc({ model, version: String(served.version), role: served.role }, instances);
  }

  /** The score histogram of one version in one role; bind once per request, observe per instance. */
  scores(model: string, served: ServedVersionLabels): ScoreObserver {
    return this.predictionScores.labels(model, String(served.version), served.role);
  }

  /**
   * The versions a model's route serves now (null: the model is no longer deployed here). Sets
   * the served-version and canary-weight gauges, and retires the series of pairs no longer served.
   */
  routeChanged(model: string, route: ServedVersionsOfModel | null): void {
    const now = new Set<string>();
    for (const served of route ? [route.champion, route.canary, route.shadow] : []) {
      if (served) now.add(`${served.version}/${served.role}`);
    }
    const before = this.served.get(model) ?? new Set<string>();
    for (const pair of now) {
      const [version, role] = pair.split('/') as [string, string];
      this.servedVersions.set({ model, version, role }, 1);
    }
    const retired = [...before].filter((pair) => !now.has(pair));
    for (const pair of retired) {
      const [version, role] = pair.split('/') as [string, string];
      this.servedVersions.remove({ model, version, role });
    }
    if (now.size > 0) this.served.set(model, now);
    else this.served.delete(model);

    for (const pair of retired) if (pair.endsWith('/canary')) this.canaryWeight.remove({ model, version: pair.split('/')[0]! });
    if (route?.canary) this.canaryWeight.set({ model, version: String(route.canary.version) }, route.canaryWeight);
    if (retired.length > 0) this.retireLater(model, retired);
  }

  /** Stops pending retirements (the gateway is closing). */
  close(): void {
    for (const timer of this.retirements) clearTimeout(timer);
    this.retirements.clear();
  }

  /** After the grace period, removes the series of pairs that are still not served. */
  private retireLater(model: string, pairs: readonly string[]): void {
    const timer = setTimeout(() => {
      this.retirements.delete(timer);
      const stillRetired = pairs.filter((pair) => !this.served.get(model)?.has(pair));
      void this.removeSeries(model, stillRetired);
    }, this.retiredSeriesGraceMs);
    timer.unref();
    this.retirements.add(timer);
  }

  private async removeSeries(model: string, pairs: readonly string[]): Promise<void> {
    if (pairs.length === 0) return;
    const retired = new Set(pairs);
    const shadowVersions = new Set(pairs.filter((p) => p.endsWith('/shadow')).map((p) => p.split('/')[0]!));
    const perVersion = [this.requests, this.requestDuration, this.predictionScores, this.scoringFailures, this.shadowPredictions] as const;
    for (const metric of perVersion) {
      const { values } = await metric.get();
      for (const value of values) {
        const { le: _le, ...own } = value.labels as Record<string, string | number | undefined>;
        if (own.model !== model) continue;
        const version = String(own.version);
        const matches = own.role === undefined ? shadowVersions.has(version) : retired.has(`${version}/${String(own.role)}`);
        // Histograms list one value per bucket, sum and count: remove() takes the series' own labels (without `le`).
        if (matches) (metric as Counter<string>).remove(own as Record<string, string | number>);
      }
    }
  }
}
