/**
 * Serving one prediction request: resolve the model's route, choose champion or canary,
 * score, log every row, and mirror the request to the shadow after the answer is sent.
 *
 * A canary that fails to score does not fail the request: its error is logged (the canary
 * analysis counts it) and the champion answers. The shadow is scored in a later event-loop
 * turn (setImmediate), after the handler's answer was written: it never delays or fails
 * the caller, and its rows carry the same request ids with role 'shadow'.
 */
import type { Logger } from 'pino';
import type { PredictionLogEntry } from '../lib/db/repositories/predictions';
import type { DeploymentRole } from '../lib/db/schema';
import type { DeploymentRouter } from './deployment-router';
import type { GatewayMetrics } from './gateway-metrics';
import { chooseVersion, type ModelRoute, type ServedVersion, type ServingRole } from './model-route';
import type { ScoredRows } from './model-session';
import type { ParsedPrediction } from './predict-request';
import type { PredictionLog } from './prediction-log';
import { GatewayRequestError } from './request-error';

/** Scores at or above this give label 1 (the argmax of a binary classifier's probabilities). */
export const LABEL_THRESHOLD = 0.5;

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
  predictionLog: PredictionLog;
  metrics: GatewayMetrics;
  log: Logger;
}

export class PredictionService {
  private pendingShadows = 0;

  constructor(private readonly deps: PredictionServiceDeps) {}

  /** Mirrored requests not yet scored by their shadow. */
  get shadowBacklog(): number {
    return this.pendingShadows;
  }

  /** The model's current route; 404 naming the model when it is not deployed here, 503 when it failed to load. */
  route(model: string): ModelRoute {
    const route = this.deps.router.get(model);
    if (route) return route;
    const status = this.deps.router.status().find((s) => s.model === model);
    if (status?.error) throw new GatewayRequestError(503, `model '${model}' is deployed but could not be loaded: ${status.error}`);
    const deployed = this.deps.router.models;
    const known = deployed.length > 0 ? `deployed: ${deployed.join(', ')}` : 'no model is deployed';
    throw new GatewayRequestError(404, `model '${model}' is not deployed on this gateway (${known})`);
  }

  /** Scores a validated request with the champion or the canary and queues its log rows. */
  async predict(route: ModelRoute, request: ParsedPrediction): Promise<PredictionOutcome> {
    const createdAt = new Date();
    const choice = chooseVersion(route, request.routingKey);
    // Taken in the same turn as the route was read: a swap cannot release these sessions under us.
    const shadow = route.shadow;
    choice.served.session.retain();
    shadow?.session.retain();
    let mirrored = false;
    try {
      let outcome: PredictionOutcome;
      const scored = await this.score(choice.served, request);
      if (scored.ok) {
        await this.record(route, request, choice.served, choice.role, scored, createdAt);
        outcome = { route, role: choice.role, served: choice.served, ...scored.result };
      } else {
        await this.record(route, request, choice.served, choice.role, scored, createdAt);
        outcome = await this.fallBackToChampion(route, request, choice, scored.error, createdAt);
      }
      if (shadow) {
        mirrored = true;
        this.pendingShadows++;
        setImmediate(() => void this.mirror(route, shadow, request));
      }
      return outcome;
    } finally {
      choice.served.session.release();
      if (shadow && !mirrored) shadow.session.release();
    }
  }

  private async fallBackToChampion(
    route: ModelRoute,
    request: ParsedPrediction,
    choice: { role: ServingRole; served: ServedVersion },
    error: Error,
    createdAt: Date,
  ): Promise<PredictionOutcome> {
    const champion = route.champion;
    if (choice.role !== 'canary' || !champion) {
      throw new GatewayRequestError(500, `model '${route.model}' v${choice.served.version} failed to score the request: ${error.message}`);
    }
    this.deps.log.warn({ model: route.model, version: choice.served.version, requestId: request.requestId, err: error }, 'canary failed; the champion answers');
    champion.session.retain();
    try {
      const scored = await this.score(champion, request);
      await this.record(route, request, champion, 'champion', scored, createdAt);
      if (!scored.ok) {
        throw new GatewayRequestError(500, `model '${route.model}' failed to score the request (canary v${choice.served.version}: ${error.message}; champion v${champion.version}: ${scored.error.message})`);
      }
      return { route, role: 'champion', served: champion, ...scored.result };
    } finally {
      champion.session.release();
    }
  }

  /** Scores the request with the shadow (whose session the caller retained) and logs it; never throws. */
  private async mirror(route: ModelRoute, shadow: ServedVersion, request: ParsedPrediction): Promise<void> {
    const createdAt = new Date();
    try {
      const scored = await this.score(shadow, request);
      this.deps.metrics.shadowPredictions.inc({ model: route.model, outcome: scored.ok ? 'ok' : 'error' });
      await this.record(route, request, shadow, 'shadow', scored, createdAt);
    } catch (err) {
      this.deps.metrics.predictionLogRows.inc({ outcome: 'dropped' }, request.instances.length);
      this.deps.log.warn({ model: route.model, version: shadow.version, err }, 'shadow prediction could not be logged');
    } finally {
      this.pendingShadows--;
      shadow.session.release();
    }
  }

  private async score(served: ServedVersion, request: ParsedPrediction): Promise<{ ok: true; result: ScoredRows } | { ok: false; error: Error; latencyMs: number }> {
    const started = performance.now();
    try {
      return { ok: true, result: await served.session.score(request.instances) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)), latencyMs: performance.now() - started };
    }
  }

  /** Queues one log row per instance; waits only when the log is full (back-pressure). */
  private async record(
    route: ModelRoute,
    request: ParsedPrediction,
    served: ServedVersion,
    role: DeploymentRole,
    scored: { ok: true; result: ScoredRows } | { ok: false; error: Error; latencyMs: number },
    createdAt: Date,
  ): Promise<void> {
    const n = request.instances.length;
    const rows = new Array<PredictionLogEntry>(n);
    for (let i = 0; i < n; i++) {
      const probability = scored.ok ? scored.result.probabilities[i]! : null;
      rows[i] = {
        model: route.model,
        requestId: request.itemIds[i]!,
        routingKey: request.routingKey,
        modelVersionId: served.id,
        role,
        features: request.instances[i]!,
        probability,
        predictedLabel: probability === null ? null : probability >= LABEL_THRESHOLD ? 1 : 0,
        latencyMs: scored.ok ? scored.result.latencyMs : scored.latencyMs,
        error: scored.ok ? null : scored.error.message,
        createdAt,
      };
    }
    const wait = this.deps.predictionLog.append(rows);
    if (wait) await wait;
  }
}
