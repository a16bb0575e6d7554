import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { countRunsAwaitingApproval, RUNS_AWAITING_APPROVAL_GAUGE } from '../lib/db/repositories/approval-waits';
import type { Database } from '../lib/db/schema';

/**
 * `retrain_runs_awaiting_approval{model}` on the gateway's /metrics: read from Postgres at each
 * scrape (one aggregate over approvals and pipeline_runs), so it needs nothing from the worker
 * and every gateway replica reports the same numbers (aggregate them with max, not sum). When
 * Postgres does not answer, the scrape still succeeds and the gauge has no series (an
 * `absent()` alert can tell), rather than repeating a count that may be stale.
 */
export function registerApprovalWaitGauge(registry: Registry, db: Kysely<Database>, log: Logger): Gauge<'model'> {
  const gauge: Gauge<'model'> = new Gauge({
    ...RUNS_AWAITING_APPROVAL_GAUGE,
    labelNames: [...RUNS_AWAITING_APPROVAL_GAUGE.labelNames],
    registers: [registry],
    async collect() {
      try {
        const counts = await countRunsAwaitingApproval(db);
        gauge.reset();
        for (const { model, runs } of counts) gauge.set({ model }, runs);
      } catch (err) {
        gauge.reset();
        log.warn({ err }, 'runs awaiting approval not counted: the database did not answer');
      }
    },
  });
  return gauge;
}
