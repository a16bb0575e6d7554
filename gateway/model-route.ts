import type { FeatureSpec } from '../lib/spec/model-spec';
import type { PredictionRowFields } from '../lib/db/repositories/predictions';
import type { DeploymentRole } from '../lib/db/schema';
import { routesToCanary } from './canary-routing';
import type { InstanceValidator } from './instance-validation';
import type { ModelSession } from './model-session';
import { GatewayRequestError } from './request-error';

/** A deployed version in one role, with its open session. */
export interface ServedVersion {
  readonly id: string;
  readonly version: number;
  readonly role: DeploymentRole;
  readonly session: ModelSession;
  /** Serializes a prediction-log row of this version in this role. */
  readonly logRow: (row: PredictionRowFields) => string;
}

/**
 * Everything needed to serve one model, immutable once built: a deployment change builds
 * a new route (all sessions loaded) and replaces the old one in a single assignment.
 */
export interface ModelRoute {
  readonly model: string;
  readonly revision: number;
  readonly features: readonly FeatureSpec[];
  readonly validator: InstanceValidator;
  readonly champion: ServedVersion | null;
  readonly canary: ServedVersion | null;
  readonly canaryWeight: number;
  readonly shadow: ServedVersion | null;
  /** Same fingerprint, same route: a refresh that finds it unchanged keeps the route. */
  readonly fingerprint: string;
}

export type ServingRole = Exclude<DeploymentRole, 'shadow'>;

/** The version that answers a request: the canary by weight (sticky per routing key), else the champion. */
export function chooseVersion(route: ModelRoute, routingKey: string | null): { role: ServingRole; served: ServedVersion } {
  if (route.canary && routesToCanary(route.model, routingKey, route.canaryWeight)) return { role: 'canary', served: route.canary };
  if (route.champion) return { role: 'champion', served: route.champion };
  throw new GatewayRequestError(503, 'model_unavailable', `model '${route.model}' has no champion deployed`, { retryAfterSeconds: 5 });
}

/** Every session reference the route holds (one per role). */
export function routeSessions(route: ModelRoute): ModelSession[] {
  return [route.champion, route.canary, route.shadow].flatMap((v) => (v ? [v.session] : []));
}
