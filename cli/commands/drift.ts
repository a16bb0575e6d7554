import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { findDriftReportByWorkflow } from '../../lib/db/repositories/drift-reports';
import { getModelSpec } from '../../lib/db/repositories/models';
import type { Database } from '../../lib/db/schema';
import type { DriftReportBody, FeatureDrift } from '../../lib/monitoring/drift-report';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { durationMs, MonitoringSpec } from '../../lib/spec/monitoring-spec';
import { searchAttributes } from '../../workflows/definitions';
import { DRIFT_MONITOR, driftMonitorId, type DriftMonitorInput, type DriftMonitorResult } from '../../workflows/drift-monitor-definitions';
import type { driftMonitor } from '../../workflows/drift-monitor';
import { renderTable } from '../runs/version-table';
import { applySchedule, driftMonitorSchedule } from '../schedules/retrain-schedules';
import { connectToStack } from '../stack/stack-client';

export interface DriftCommandOptions {
  model: string;
  /** A spec file; default: the model's spec as the last admitted run recorded it (models.spec). */
  spec?: string;
  /** The window's length (e.g. 1h); default: the spec's monitoring.window. */
  window?: string;
  /** The window's end (ISO); default: now. */
  end?: string;
  json: boolean;
}

/**
 * `retrain drift`: one drift monitor pass now, the same workflow the Schedule starts (so it may
 * start a retraining run when the drift crosses the trigger), waited for; prints the report (a
 * table per source, class mixes, accuracy, the decision and the HTML report's link), or with
 * `--json` the pass's result and the stored report.
 */
export async function driftCommand(env: RetrainEnvironment, options: DriftCommandOptions): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const spec = await specFor(stack.db, options);
    const monitoring = spec.monitoring ?? MonitoringSpec.parse({});
    const end = options.end ? new Date(options.end) : new Date();
    if (Number.isNaN(end.getTime())) throw new Error(`--end must be an ISO timestamp, got '${options.end}'`);
    end.setUTCMilliseconds(0);
    const start = new Date(end.getTime() - durationMs(options.window ?? monitoring.window));
    const result = await runDriftMonitorPass(stack.client, { spec, taskQueue: stack.connection.taskQueue, windowStart: start.toISOString(), windowEnd: end.toISOString() });
    const stored = await findDriftReportByWorkflow(stack.db, result.workflowId);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...result, report: stored?.report ?? null }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${renderDriftSummary(result, stored?.report as DriftReportBody | undefined)}\n`);
  } finally {
    await stack.close();
  }
}

/** `retrain drift-schedule`: creates or updates the model's drift monitor Schedule from its spec's monitoring block. */
export async function driftScheduleCommand(env: RetrainEnvironment, options: { model: string; spec?: string }): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const spec = await specFor(stack.db, options);
    const definition = driftMonitorSchedule(spec, stack.connection.taskQueue);
    const { created } = await applySchedule(stack.client, definition);
    process.stdout.write(`${created ? 'created' : 'updated'} schedule ${definition.scheduleId}: ${definition.note}\n`);
  } finally {
    await stack.close();
  }
}

/** Starts one pass (workflow id `drift/<model>/<window end>`) and waits for it. */
export async function runDriftMonitorPass(client: Client, input: { spec: ModelSpec; taskQueue: string; windowStart: string; windowEnd: string }): Promise<DriftMonitorResult> {
  const args: DriftMonitorInput = { spec: input.spec, windowStart: input.windowStart, windowEnd: input.windowEnd };
  return client.workflow.execute<typeof driftMonitor>(DRIFT_MONITOR, {
    taskQueue: input.taskQueue,
    workflowId: driftMonitorId(input.spec.name, input.windowEnd),
    args: [args],
    typedSearchAttributes: [{ key: searchAttributes.model, value: input.spec.name }],
    staticSummary: `Drift monitor pass of ${input.spec.name} (by hand)`,
  });
}

async function specFor(db: Kysely<Database>, options: { model: string; spec?: string }): Promise<ModelSpec> {
  if (options.spec) {
    const spec = loadModelSpec(options.spec);
    if (spec.name !== options.model) throw new Error(`the spec ${options.spec} is model '${spec.name}', not '${options.model}': pass --model ${spec.name}`);
    return spec;
  }
  const recorded = await getModelSpec(db, options.model);
  if (!recorded) throw new Error(`model '${options.model}' has no recorded spec: run its pipeline once (retrain run) or pass --spec`);
  return recorded;
}

export function renderDriftSummary(result: DriftMonitorResult, report: DriftReportBody | undefined): string {
  const { pass } = result;
  const lines = [
    `drift monitor ${result.workflowId}: ${result.model}, window ${result.window.start} .. ${result.window.end}, ${pass.requests} requests, status ${pass.status}`,
    pass.message,
  ];
  const rows = (features: readonly FeatureDrift[]) =>
    features.map((f) => [f.source, f.feature, `${f.result.method} (${f.choice})`, fmt(f.result.score), f.result.pValue === undefined ? '' : fmt(f.result.pValue), String(f.result.threshold), f.result.score === null ? `n/a: ${f.result.note ?? ''}` : f.result.drifted ? 'DRIFT' : 'ok']);
  const all = [...(report?.features ?? []), ...(report?.ingested?.features ?? [])];
  if (all.length > 0) lines.push('', renderTable(['source', 'feature', 'test', 'score', 'p-value', 'threshold', 'verdict'], rows(all)));
  for (const [name, mix] of [['predicted class mix', report?.prediction], ['label mix (feedback)', report?.label], ['label mix (ingested)', report?.ingested?.label]] as const) {
    if (mix) lines.push(`${name}: ${mix.reference.shares.map((s) => s.toFixed(3)).join('/')} -> ${mix.current.shares.map((s) => s.toFixed(3)).join('/')}, ${mix.result.method} ${fmt(mix.result.score)}: ${mix.result.drifted ? 'DRIFT' : 'ok'}`);
  }
  for (const change of report?.schema ?? []) lines.push(`schema (${change.source}): ${change.column} ${change.change}${change.reference ? `, reference ${change.reference}` : ''}${change.current ? `, now ${change.current}` : ''}`);
  if (report?.performance) {
    const p = report.performance;
    lines.push(`accuracy: realized ${fmt(p.realized)} on ${p.labelled} labels (estimated on them ${fmt(p.estimatedOnLabelled)}); estimated (CBPE) ${fmt(p.estimated)} on all ${p.predictions} predictions, ${p.pending} pending`);
  }
  lines.push(result.retraining ? `retraining started: ${result.retraining.workflowId} (${result.decision?.reason})` : `no retraining: ${result.decision?.reason ?? `trigger not crossed: ${pass.crossing.reason}`}`);
  if (pass.report) lines.push(`report: ${pass.report.url}`);
  return lines.join('\n');
}

function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toFixed(4);
}
