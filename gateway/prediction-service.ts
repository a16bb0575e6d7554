/**
 * Serving one prediction request: resolve the model's route, choose champion or canary,
 * score, log every row, and mirror the request to the shadow.
 *
 * A canary that fails to score does not fail the request: its error is logged (the canary
 * analysis counts it) and the champion answers. Mirrors are scored by the ShadowMirror a few
 * milliseconds later, after the answer was written: a shadow never delays or fails the caller,
 * and its rows carry the same request ids with role 'shadow'. Should `maxShadowBacklog`
 * mirrors be waiting, further ones are skipped and counted (outcome "skipped").
 *
 * Request ids: the (item) ids of a request are reserved in ServedRequests before it is scored,
 * so an id used before (or by a request still being scored) is refused with a 409; they are
 * confirmed once the rows are queued in the log, released if the request fails.
 *
 * Latency probes: the first request `PROBE_INTERVAL_MS` or more after the previous probe is
 * scored by the serving version and by the shadow each in a call of its own, so their
 * latencies can be compared request by request even when the gateway merges concurrent
 * requests into shared model calls. At low traffic every request is a probe (nothing would be
 * merged anyway); at high traffic probes are capped at 1000 / PROBE_INTERVAL_MS per second,
 * since each costs two model calls that could have been shared (~30 µs each) and a few
 * hundred probes a second are plenty for percentiles.
 */
import type { Logger } from 'pino';
import { binaryLabel } from '../lib/stats/decision-threshold';
import type { DeploymentRouter } from './deployment-router';
import { attributeFailure, type GatewayMetrics } from './gateway-metrics';
import { chooseVersion, type ModelRoute, type ServedVersion, type ServingRole } from './model-route';
import type { ParsedPrediction } from './predict-request';
import type { ServingLogEntry } from '../lib/db/repositories/serving-log';
import type { PredictionLog } from './prediction-log';
import { GatewayRequestError } from './request-error';
import type { ServedRequests } from './served-requests';
import { quoted } from './storable-text';
import { ShadowMirror, type MirroredRequest, type ShadowScoring } from './shadow-mirror';

/** A request this long or longer after the previous latency probe is a probe. */
export const PROBE_INTERVAL_MS = 20;

export interface PredictionOutcome {
  readonly route: ModelRoute;
  readonly role: ServingRole;
  readonly served: ServedVersion;
  /** P(positive) per instance. */
  readonly probabilities: Float64Array;
  /** The model's output: [P(0), P(1)] per instance, row-major. */
  readonly classProbabilities: ArrayLike<number>;
}

export interface PredictionServiceDeps {
  router: DeploymentRouter;
  predictionLog: PredictionLog<ServingLogEntry>;
  served: ServedRequests;
  metrics: GatewayMetrics;
  log: Logger;
  /** Mirrored requests waiting to be scored at most; beyond, mirrors are skipped (and counted). */
  maxShadowBacklog: number;
}

export class PredictionService {
  private readonly shadowMirror: ShadowMirror;
  private lastProbeAt = 0;

  constructor(private readonly deps: PredictionServiceDeps) {
    this.shadowMirror = new ShadowMirror({
      onScored: (scored) => this.recordShadows(scored),
      log: deps.log,
      maxBacklog: deps.maxShadowBacklog,
    });
  }

  /** Mirrored requests not yet scored by their shadow. */
  get shadowBacklog(): number {
    return this.shadowMirror.backlog;
  }

  /** Scores and logs every mirrored request. */
  drainShadows(): Promise<void> {
    return this.shadowMirror.drain();
  }

  /** The model's current route; 404 naming the model when it is not deployed here, 503 when it failed to load. */
  route(model: string): ModelRoute {
    const route = this.deps.router.get(model);
    if (route) return route;
    const status = this.deps.router.status().find((s) => s.model === model);
    if (status?.error) throw new GatewayRequestError(503, 'model_unavailable', `model '${model}' is deployed but could not be loaded: ${status.error}`, { retryAfterSeconds: 5 });
    const deployed = this.deps.router.models;
    const known = deployed.length > 0 ? `deployed: ${deployed.join(', ')}` : 'no model is deployed';
    throw new GatewayRequestError(404, 'model_not_found', `model ${quoted(model)} is not deployed on this gateway (${known})`);
  }

  /** Scores a validated request with the champion or the canary and queues its log rows; 409 when one of its ids was used before. */
  async predict(route: ModelRoute, request: ParsedPrediction): Promise<PredictionOutcome> {
    const { served } = this.deps;
    const conflict = served.reserve(route.model, request.itemIds);
    if (conflict !== null) {
      throw new GatewayRequestError(
        409,
        'request_id_conflict',
        `request id ${quoted(conflict)} was already used for a prediction of model '${route.model}'; request ids are unique per model: send a new one, or none to get a generated UUID`,
        { field: request.idField },
      );
    }
    let answered = false;
    try {
      const outcome = await this.score(route, request);
      served.confirm(route.model, request.itemIds, this.deps.predictionLog.appended);
      answered = true;
      return outcome;
    } finally {
      if (!answered) served.release(route.model, request.itemIds);
    }
  }

  private async score(route: ModelRoute, request: ParsedPrediction): Promise<PredictionOutcome> {
    const createdAt = new Date();
    const now = createdAt.getTime();
    const probe = now - this.lastProbeAt >= PROBE_INTERVAL_MS;
    if (probe) this.lastProbeAt = now;
    const choice = chooseVersion(route, request.routingKey);
    // Taken in the same turn as the route was read: a swap cannot release these sessions under us.
    const shadow = route.shadow;
    choice.served.session.retain();
    shadow?.session.retain();
    let mirrored = false;
    try {
      const scored = await choice.served.session.attempt(request.instances, probe);
      await this.record(route.model, request, choice.served, scored, createdAt);
      const outcome: PredictionOutcome = scored.ok
        ? { route, role: choice.role, served: choice.served, ...scored.result }
        : await this.fallBackToChampion(route, request, choice.served, scored.error, createdAt);
      if (shadow) {
        mirrored = true;
        if (!this.shadowMirror.mirror({ model: route.model, shadow, request, probe, createdAt })) {
          this.deps.metrics.shadowPredictions.inc({ model: route.model, version: String(shadow.version), outcome: 'skipped' });
        }
      }
      return outcome;
    } finally {
      choice.served.session.release();
      if (shadow && !mirrored) shadow.session.release();
    }
  }

  private async fallBackToChampion(route: ModelRoute, request: ParsedPrediction, failed: ServedVersion, error: Error, createdAt: Date): Promise<PredictionOutcome> {
    const champion = route.champion;
    if (failed.role !== 'canary' || !champion) {
      throw attributeFailure(new GatewayRequestError(500, 'scoring_failed', `model '${route.model}' v${failed.version} failed to score the request: ${error.message}`), failed);
    }
    this.deps.log.warn({ model: route.model, version: failed.version, requestId: request.requestId, err: error }, 'canary failed; the champion answers');
    champion.session.retain();
    try {
      const scored = await champion.session.attempt(request.instances);
      await this.record(route.model, request, champion, scored, createdAt);
      if (!scored.ok) {
        throw attributeFailure(
          new GatewayRequestError(
            500,
            'scoring_failed',
            `model '${route.model}' failed to score the request (canary v${failed.version}: ${error.message}; champion v${champion.version}: ${scored.error.message})`,
          ),
          champion,
        );
      }
      return { route, role: 'champion', served: champion, ...scored.result };
    } finally {
      champion.session.release();
    }
  }

  /** Logs the rows of mirrored requests scored together with one append. */
  private async recordShadows(scored: ReadonlyArray<{ mirrored: MirroredRequest; outcome: ShadowScoring }>): Promise<void> {
    const rows: ServingLogEntry[] = [];
    let failed = 0;
    const { model, shadow } = scored[0]!.mirrored;
    for (const { mirrored, outcome } of scored) {
      if (!outcome.ok) failed++;
      this.observe(mirrored.model, mirrored.request, mirrored.shadow, outcome);
      this.logRows(rows, mirrored.request, mirrored.shadow, outcome, mirrored.createdAt.toISOString());
    }
    const version = String(shadow.version);
    if (scored.length > failed) this.deps.metrics.shadowPredictions.inc({ model, version, outcome: 'ok' }, scored.length - failed);
    if (failed > 0) this.deps.metrics.shadowPredictions.inc({ model, version, outcome: 'error' }, failed);
    try {
      const wait = this.deps.predictionLog.append(rows);
      if (wait) await wait;
    } catch (err) {
      this.deps.metrics.predictionLogRows.inc({ outcome: 'dropped' }, rows.length);
      throw err;
    }
  }

  /** Queues one log row per instance; waits only when the log is full (back-pressure). */
  private async record(model: string, request: ParsedPrediction, served: ServedVersion, scored: ShadowScoring, createdAt: Date): Promise<void> {
    this.observe(model, request, served, scored);
    const rows: ServingLogEntry[] = [];
    this.logRows(rows, request, served, scored, createdAt.toISOString());
    const wait = this.deps.predictionLog.append(rows);
    if (wait) await wait;
  }

  /** The scores of one request's instances into the version's histogram, or its failure into the failure counter. */
  private observe(model: string, request: ParsedPrediction, served: ServedVersion, scored: ShadowScoring): void {
    if (!scored.ok) {
      this.deps.metrics.scoringFailed(model, served, request.instances.length);
      return;
    }
    const scores = this.deps.metrics.scores(model, served);
    for (const probability of scored.result.probabilities) scores.observe(probability);
  }

  /** Appends the serialized log rows of one request's instances to `rows`. */
  private logRows(rows: ServingLogEntry[], request: ParsedPrediction, served: ServedVersion, scored: ShadowScoring, createdAt: string): void {
    for (let i = 0; i < request.instances.length; i++) {
      const probability = scored.ok ? scored.result.probabilities[i]! : null;
      rows.push(
        served.logRow({
          requestId: request.itemIds[i]!,
          routingKey: request.routingKey,
          features: request.instances[i]!,
          probability,
          predictedLabel: probability === null ? null : binaryLabel(probability),
          latencyMs: scored.ok ? scored.result.latencyMs : scored.latencyMs,
          scoredAlone: scored.ok ? scored.result.scoredAlone : true,
          error: scored.ok ? null : scored.error.message,
          createdAt,
        }),
      );
    }
  }
}
