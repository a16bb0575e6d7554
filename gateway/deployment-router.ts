/**
 * The gateway's routing table: one immutable ModelRoute per deployed model, rebuilt when
 * the deployment changes. A new route is built completely (every session loaded, checksum
 * verified, its inputs checked against the serving contract) before it replaces the old one in a single
 * assignment, so a request sees either the old or the new routing and never a half-loaded
 * one; sessions the new route no longer uses are released once their in-flight requests end.
 *
 * Requests are validated against the serving contract of the version that serves the
 * model (the champion; the canary's or the shadow's when there is none), stored with that
 * version when it was registered (lib/spec/serving-contract.ts): never against the model's
 * latest spec, so a run started with a changed spec changes nothing until its version serves.
 *
 * Reloads run one at a time; requests for reloads that arrive meanwhile are merged. A
 * change that cannot be applied keeps the previous route, is reported (readyz, metrics,
 * log) and retried with backoff.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import { FeatureSpec } from '../lib/spec/model-spec';
import { parseServingContract } from '../lib/spec/serving-contract';
import { listServedDeployments, type ServedDeployment, type ServedVersionRef } from '../lib/db/repositories/deployments';
import { predictionSerializer } from '../lib/db/repositories/predictions';
import type { DeploymentRole } from '../lib/db/schema';
import type { Database } from '../lib/db/schema';
import type { GatewayMetrics } from './gateway-metrics';
import { createInstanceValidator } from './instance-validation';
import { routeSessions, type ModelRoute, type ServedVersion } from './model-route';
import type { SessionCache } from './session-cache';

const Features = z.array(FeatureSpec).min(1);

/** What readyz and `GET /v1/models` report per deployed model. */
export interface ModelServingStatus {
  model: string;
  /** The revision being served; null before the first successful load. */
  revision: number | null;
  champion: number | null;
  canary: number | null;
  canaryWeight: number;
  shadow: number | null;
  /** Whether the latest deployment revision is the one served. */
  loaded: boolean;
  error: string | null;
}

interface LoadFailure {
  revision: number;
  error: string;
  attempts: number;
  retry: NodeJS.Timeout | null;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export class DeploymentRouter {
  private routes: ReadonlyMap<string, ModelRoute> = new Map();
  private readonly failures = new Map<string, LoadFailure>();
  private pendingAll = false;
  private readonly pendingModels = new Set<string>();
  private draining: Promise<void> | null = null;
  private loadedOnce = false;
  private closed = false;

  constructor(
    private readonly deps: { db: Kysely<Database>; sessions: SessionCache; metrics: GatewayMetrics; log: Logger },
  ) {}

  /** The current route of a model (read once per request: later swaps do not affect it). */
  get(model: string): ModelRoute | undefined {
    return this.routes.get(model);
  }

  /** Deployed model names, served or failing. */
  get models(): string[] {
    return [...new Set([...this.routes.keys(), ...this.failures.keys()])].sort();
  }

  /** True once a full load finished and every deployed model is served at its latest revision. */
  get ready(): boolean {
    return this.loadedOnce && this.failures.size === 0;
  }

  status(): ModelServingStatus[] {
    return this.models.map((model) => {
      const route = this.routes.get(model);
      const failure = this.failures.get(model);
      return {
        model,
        revision: route?.revision ?? null,
        champion: route?.champion?.version ?? null,
        canary: route?.canary?.version ?? null,
        canaryWeight: route?.canaryWeight ?? 0,
        shadow: route?.shadow?.version ?? null,
        loaded: !failure && route !== undefined,
        error: failure ? `revision ${failure.revision}: ${failure.error}` : null,
      };
    });
  }

  /** Asks for a reload of one model, or of everything; returns at once (see idle()). */
  request(model?: string): void {
    if (this.closed) return;
    if (model === undefined) this.pendingAll = true;
    else this.pendingModels.add(model);
    this.draining ??= this.drain();
  }

  /** Settles when no reload is running or pending. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Stops reloading and releases every route's sessions (in-flight requests keep theirs until done). */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    for (const failure of this.failures.values()) if (failure.retry) clearTimeout(failure.retry);
    const routes = [...this.routes.values()];
    this.routes = new Map();
    for (const route of routes) for (const session of routeSessions(route)) session.release();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && (this.pendingAll || this.pendingModels.size > 0)) {
        const all = this.pendingAll;
        const models = [...this.pendingModels];
        this.pendingAll = false;
        this.pendingModels.clear();
        try {
          if (all) await this.reloadAll();
          else for (const model of models) await this.reloadModel(model);
        } catch (err) {
          // The database is unreachable (a load failure of one version is handled per model): keep serving, retry.
          this.deps.log.warn({ err, models: all ? 'all' : models }, 'could not read deployments; will retry');
          setTimeout(() => (all ? this.request() : models.forEach((m) => this.request(m))), RETRY_MIN_MS * 2).unref();
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private async reloadAll(): Promise<void> {
    const deployments = await listServedDeployments(this.deps.db);
    await Promise.all(deployments.map((d) => this.apply(d)));
    const deployed = new Set(deployments.map((d) => d.model));
    for (const model of this.models) if (!deployed.has(model)) this.remove(model);
    this.loadedOnce = true;
  }

  private async reloadModel(model: string): Promise<void> {
    const [deployment] = await listServedDeployments(this.deps.db, model);
    if (deployment) await this.apply(deployment);
    else this.remove(model);
  }

  /** Builds the model's route for this deployment and swaps it in, unless it is unchanged. */
  private async apply(deployment: ServedDeployment): Promise<void> {
    const { model } = deployment;
    const fingerprint = JSON.stringify([deployment.revision, deployment.championVersionId, deployment.canaryVersionId, deployment.canaryWeight, deployment.shadowVersionId]);
    const current = this.routes.get(model);
    if (current?.fingerprint === fingerprint && !this.failures.has(model)) return;
    let route: ModelRoute;
    try {
      route = await this.build(deployment, fingerprint);
    } catch (err) {
      this.recordFailure(deployment, err);
      return;
    }
    if (this.closed) {
      for (const session of routeSessions(route)) session.release();
      return;
    }
    this.clearFailure(model);
    // Swap in one assignment; requests that already read the old route finish on it.
    const previous = this.routes.get(model);
    const next = new Map(this.routes);
    next.set(model, route);
    this.routes = next;
    if (previous) for (const session of routeSessions(previous)) session.release();
    this.deps.metrics.modelSwaps.inc({ model });
    this.deps.metrics.deploymentRevision.set({ model }, route.revision);
    this.deps.metrics.routeChanged(model, route);
    this.deps.log.info(
      {
        model,
        revision: route.revision,
        champion: route.champion?.version ?? null,
        canary: route.canary?.version ?? null,
        canaryWeight: route.canaryWeight,
        shadow: route.shadow?.version ?? null,
      },
      'deployment applied',
    );
  }

  private async build(deployment: ServedDeployment, fingerprint: string): Promise<ModelRoute> {
    const features = requestFeatures(deployment);
    const acquired: ServedVersion[] = [];
    const load = async (id: string | null, role: DeploymentRole): Promise<ServedVersion | null> => {
      if (id === null) return null;
      const ref = versionRef(deployment, id);
      const session = await this.deps.sessions.acquire(ref);
      const served = { id, version: ref.version, role, session, logRow: predictionSerializer({ model: deployment.model, modelVersionId: id, role }) };
      acquired.push(served);
      const problem = session.incompatibility(features);
      if (problem) throw new Error(problem);
      return served;
    };
    try {
      const results = await Promise.allSettled([
        load(deployment.championVersionId, 'champion'),
        load(deployment.canaryVersionId, 'canary'),
        load(deployment.shadowVersionId, 'shadow'),
      ]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const [champion, canary, shadow] = results.map((r) => (r as PromiseFulfilledResult<ServedVersion | null>).value);
      return {
        model: deployment.model,
        revision: deployment.revision,
        features,
        // Values are bounded by the input types of every version the route holds (float32, int64).
        validator: createInstanceValidator(features, [champion, canary, shadow].flatMap((v) => (v ? [v.session.contract.inputs] : []))),
        champion: champion ?? null,
        canary: canary ?? null,
        canaryWeight: canary ? deployment.canaryWeight : 0,
        shadow: shadow ?? null,
        fingerprint,
      };
    } catch (err) {
      for (const served of acquired) served.session.release();
      throw err;
    }
  }

  private remove(model: string): void {
    this.clearFailure(model);
    const current = this.routes.get(model);
    if (!current) return;
    const next = new Map(this.routes);
    next.delete(model);
    this.routes = next;
    for (const session of routeSessions(current)) session.release();
    this.deps.metrics.deploymentRevision.remove({ model });
    this.deps.metrics.routeChanged(model, null);
    this.deps.log.info({ model }, 'deployment removed');
  }

  private recordFailure(deployment: ServedDeployment, err: unknown): void {
    const { model } = deployment;
    const previous = this.failures.get(model);
    if (previous?.retry) clearTimeout(previous.retry);
    const attempts = (previous?.revision === deployment.revision ? previous.attempts : 0) + 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempts - 1));
    const error = err instanceof Error ? err.message : String(err);
    const retry = setTimeout(() => {
      const failure = this.failures.get(model);
      if (failure) failure.retry = null;
      this.request(model);
    }, delay);
    retry.unref();
    this.failures.set(model, { revision: deployment.revision, error, attempts, retry });
    this.deps.metrics.modelLoadFailures.inc({ model });
    this.deps.log.error(
      { model, revision: deployment.revision, err, retryInMs: delay, servingRevision: this.routes.get(model)?.revision ?? null },
      'deployment change could not be applied; the previous routing stays',
    );
  }

  private clearFailure(model: string): void {
    const failure = this.failures.get(model);
    if (failure?.retry) clearTimeout(failure.retry);
    this.failures.delete(model);
  }
}

function versionRef(deployment: ServedDeployment, id: string): ServedVersionRef {
  const ref = deployment.versions.find((v) => v.id === id);
  if (!ref) throw new Error(`model version ${id} does not exist`);
  return ref;
}

/**
 * The features requests are validated against: the serving contract of the version that
 * answers them (the champion; the canary, then the shadow, when there is no champion). The
 * canary and the shadow must be able to read the same requests (their inputs are checked
 * against these features when the route is built).
 */
function requestFeatures(deployment: ServedDeployment): FeatureSpec[] {
  const id = deployment.championVersionId ?? deployment.canaryVersionId ?? deployment.shadowVersionId;
  if (id === null) return [];
  const ref = versionRef(deployment, id);
  const contract = parseServingContract(ref.contract, `${deployment.model} v${ref.version}`);
  const parsed = Features.safeParse(contract.features);
  if (!parsed.success) throw new Error(`the serving contract of ${deployment.model} v${ref.version} has no valid features: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
