import path from 'node:path';
import type { ModelSpec } from '../../lib/config/model-spec';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { findLatestDatasetForDay } from '../../lib/db/repositories/datasets';
import type { PipelineHarness } from './pipeline-harness';

/** Real flights of an ingested day as request instances, each with its true label for feedback. */
export async function trafficRowsFromDay(harness: PipelineHarness, spec: ModelSpec, day: string, limit: number): Promise<TrafficRow[]> {
  const dataset = await findLatestDatasetForDay(harness.deps.db, spec.name, day);
  if (!dataset) throw new Error(`${spec.name} has no snapshot of ${day}`);
  const file = path.join(harness.deps.workDir, `traffic-${spec.name}-${day}.parquet`);
  await harness.deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, file);
  const table = await loadFeatureTable([file], spec);
  return Array.from({ length: Math.min(table.rows, limit) }, (_, i) => ({
    instance: Object.fromEntries(spec.features.map((f) => [f.name, f.kind === 'numeric' ? table.numeric[f.name]![i]! : (table.categorical[f.name]![i] ?? '')])),
    label: table.label![i] as 0 | 1,
  }));
}

/** A client that keeps a gateway busy: predictions with routing keys, each followed by its true label as feedback. */
export interface TrafficRow {
  instance: Record<string, number | string>;
  label: 0 | 1;
}

export interface TrafficReport {
  sent: number;
  failed: number;
  failures: string[];
  requestIds: string[];
}

export function startTraffic(options: { url: string; model: string; rows: readonly TrafficRow[]; concurrency: number; prefix: string }): { stop(): Promise<TrafficReport> } {
  let running = true;
  let next = 0;
  const report: TrafficReport = { sent: 0, failed: 0, failures: [], requestIds: [] };
  const loop = async (worker: number) => {
    while (running) {
      const i = next++;
      const row = options.rows[i % options.rows.length]!;
      const requestId = `${options.prefix}-${i}`;
      report.sent++;
      try {
        const response = await fetch(`${options.url}/v1/models/${options.model}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instance: row.instance, requestId, routingKey: `user-${(i * 7919 + worker) % 5000}` }),
        });
        if (!response.ok) throw new Error(`predict ${response.status}: ${await response.text()}`);
        await response.json();
        report.requestIds.push(requestId);
        const feedback = await fetch(`${options.url}/v1/models/${options.model}/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ requestId, label: row.label }),
        });
        if (!feedback.ok) throw new Error(`feedback ${feedback.status}: ${await feedback.text()}`);
      } catch (err) {
        report.failed++;
        if (report.failures.length < 10) report.failures.push((err as Error).message);
      }
    }
  };
  const loops = Array.from({ length: options.concurrency }, (_, w) => loop(w));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}
