import path from 'node:path';
import { sql } from 'kysely';
import type { ModelSpec } from '../lib/spec/model-spec';
import { durationMs } from '../lib/spec/monitoring-spec';
import { sourcePartitionDays } from '../lib/data/source-partition-days';
import { inTransaction } from '../lib/db/in-transaction';
import { findDriftReportByWorkflow, markRetrainingTriggered, retrainingActivity } from '../lib/db/repositories/drift-reports';
import { runDriftPass, type DriftPassInput, type DriftPassResult } from '../lib/monitoring/drift-pass';
import { decideRetrainingStart, type RetrainingStartDecision } from '../lib/policy/drift-trigger';
import type { ActivityDeps } from './activity-deps';
import { heartbeatWhile } from './heartbeat-while';

/** The drift monitor's activities: the pass (eval queue), the newest source partition (data queue), the claim of a retraining run (control queue). */
export function createDriftPassActivities(deps: Pick<ActivityDeps, 'db' | 'store' | 'workDir'>) {
  return {
    /** One pass: measures, stores the report (once per workflow id) and its HTML, and says whether the drift crossed the trigger. */
    async runDriftPass(input: DriftPassInput): Promise<DriftPassResult> {
      return heartbeatWhile({ workflowId: input.workflowId }, () => runDriftPass(deps, input));
    },
  };
}

export function createDriftSourceActivities(deps: Pick<ActivityDeps, 'sourceS3'>) {
  return {
    /** The newest partition day the model's source holds: the day a triggered retraining run is for. Null when the source has none. */
    async newestSourcePartitionDay(input: { spec: ModelSpec; specDir?: string }): Promise<string | null> {
      const source = input.spec.source.kind === 'local' && input.specDir ? { ...input.spec.source, path: path.resolve(input.specDir, input.spec.source.path) } : input.spec.source;
      const days = await sourcePartitionDays(source, input.spec.partition.column, deps.sourceS3);
      return days.at(-1) ?? null;
    },
  };
}

export function createDriftClaimActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Decides, under the model's row lock, whether the report may start its retraining run
     * (lib/policy/drift-trigger.ts: none while one is in progress, none within the cooldown) and,
     * if so, records the run's id on the report before it is started: two passes deciding at once
     * are serialized by the lock, and the second sees the first's run. A retried call finds its
     * own claim and says so again. The decision's reason replaces the report's trigger reason.
     */
    async claimDriftRetraining(input: { model: string; reportId: string; reportWorkflowId: string; retrainingWorkflowId: string; windowEnd: string; cooldown: string }): Promise<RetrainingStartDecision> {
      return inTransaction(db, async (trx) => {
        await sql`select name from models where name = ${input.model} for update`.execute(trx);
        const report = await findDriftReportByWorkflow(trx, input.reportWorkflowId);
        if (report?.triggeredWorkflowId === input.retrainingWorkflowId) return { start: true, reason: report.triggerReason };
        const facts = await retrainingActivity(trx, input.model);
        const decision = decideRetrainingStart(
          { crossed: true, reason: report?.triggerReason ?? 'trigger crossed' },
          {
            running: facts.running,
            lastTriggered: facts.lastTriggered && { workflowId: facts.lastTriggered.workflowId, at: facts.lastTriggered.at.getTime() },
            now: Date.parse(input.windowEnd),
            cooldownMs: durationMs(input.cooldown),
          },
        );
        if (decision.start) await markRetrainingTriggered(trx, input.reportId, input.retrainingWorkflowId);
        await trx.updateTable('drift_reports').set({ trigger_reason: decision.reason }).where('id', '=', input.reportId).execute();
        return decision;
      });
    },
  };
}

