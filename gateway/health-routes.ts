/**
 * Operations endpoints: `/healthz` (the process answers), `/readyz` (the database answers,
 * the deployment listener is connected, and every deployed model is served at its latest
 * revision; 503 otherwise, with the reason per model) and `/metrics` (Prometheus).
 */
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../lib/db/schema';
import type { DeploymentFollower } from './deployment-follower';
import type { DeploymentRouter, ModelServingStatus } from './deployment-router';
import type { GatewayMetrics } from './gateway-metrics';

const DATABASE_CHECK_TIMEOUT_MS = 2_000;

export interface Readiness {
  ready: boolean;
  /** "ok" or why the database check failed. */
  database: string;
  /** Whether deployment changes are being followed (LISTEN connection up). */
  following: boolean;
  models: ModelServingStatus[];
}

export interface HealthDeps {
  db: Kysely<Database>;
  router: DeploymentRouter;
  follower: DeploymentFollower;
  metrics: GatewayMetrics;
}

export async function checkReadiness(deps: HealthDeps): Promise<Readiness> {
  const database = await checkDatabase(deps.db);
  const following = deps.follower.connected;
  return { ready: database === 'ok' && following && deps.router.ready, database, following, models: deps.router.status() };
}

export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const readiness = await checkReadiness(deps);
    reply.code(readiness.ready ? 200 : 503);
    return readiness;
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}

async function checkDatabase(db: Kysely<Database>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sql`select 1`.execute(db),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${DATABASE_CHECK_TIMEOUT_MS} ms`)), DATABASE_CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}
