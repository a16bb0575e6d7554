/**
 * deploy/: the Prometheus configuration, the alert rules and their unit tests are checked by
 * Prometheus's own promtool (Debian's `prometheus` package), and the Grafana dashboard and the
 * rules read only metrics that Retrain defines. test/integration/monitoring-stack.test.ts runs
 * them against a live gateway and worker.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { registerApprovalWaitGauge } from '../../gateway/approval-wait-gauge';
import { GatewayMetrics } from '../../gateway/gateway-metrics';
import type { Database } from '../../lib/db/schema';
import { WorkerMetrics } from '../../worker/worker-metrics';
import { dashboardQueries, METRICS_DEFINED_ELSEWHERE, readDashboard } from '../fixtures/monitoring-deploy';

const execFileAsync = promisify(execFile);
const DEPLOY = path.join(__dirname, '..', '..', 'deploy');
const PROMETHEUS_DIR = path.join(DEPLOY, 'prometheus');

/** promtool's exit status and everything it printed. */
async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('promtool', args, { cwd: PROMETHEUS_DIR });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Every metric name Retrain's registries define, histograms with their _bucket, _sum and _count series. */
function definedMetricNames(): Set<string> {
  const gateway = new GatewayMetrics();
  // Registered by createGateway beside the request metrics; it reads Postgres only when scraped.
  registerApprovalWaitGauge(gateway.registry, {} as Kysely<Database>, pino({ level: 'silent' }));
  const worker = new WorkerMetrics({ modelGauges: { db: {} as Kysely<Database>, windowSeconds: 3600 } });
  const names = new Set<string>();
  for (const registry of [gateway.registry, worker.registry]) {
    for (const metric of registry.getMetricsAsArray()) {
      const { name, type } = metric as unknown as { name: string; type: string };
      names.add(name);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

const retrainMetricsIn = (text: string) => new Set([...text.matchAll(/\bretrain_[a-z0-9_]+/g)].map((m) => m[0]));

describe('deploy/prometheus', () => {
  it('passes promtool check config (the rule files and target files it names included)', async () => {
    const { code, output } = await promtool('check', 'config', 'prometheus.yml');
    expect(output).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax');
    expect(code, output).toBe(0);
  });

  it('passes promtool check rules', async () => {
    const { code, output } = await promtool('check', 'rules', 'alerts.yml');
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(code, output).toBe(0);
  });

  it('passes promtool test rules, with a firing case for every alert', async () => {
    const { code, output } = await promtool('test', 'rules', 'alerts.test.yml');
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
    const alerts = [...readFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(15);
    const tests = readFileSync(path.join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8');
    // A firing case: the alert's name followed by an expected alert's labels.
    const firing = new Set([...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels:/g)].map((m) => m[1]!));
    expect(alerts.filter((alert) => !firing.has(alert))).toEqual([]);
  });

  it('alerts on metrics Retrain defines (or another part of it will)', () => {
    const defined = definedMetricNames();
    const used = retrainMetricsIn(readFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8'));
    expect([...used].filter((name) => !defined.has(name) && !METRICS_DEFINED_ELSEWHERE.includes(name))).toEqual([]);
  });
});

describe('deploy/grafana/retrain-dashboard.json', () => {
  const dashboard = readDashboard();

  it('is a dashboard of panels that each query Prometheus through the data source variable', () => {
    expect(dashboard).toMatchObject({ uid: 'retrain-overview', title: 'Retrain', schemaVersion: expect.any(Number) });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.description, panel.title).toBeTruthy();
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toMatch(/\S/);
    }
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'model']);
  });

  it('has operational and ML panels, reading metrics Retrain defines', () => {
    const queries = dashboardQueries(dashboard);
    const text = queries.map((q) => q.expr).join('\n');
    for (const name of ['retrain_gateway_requests_total', 'retrain_gateway_request_duration_seconds_bucket', 'retrain_worker_activity_duration_seconds_count', 'temporal_worker_task_slots_available']) {
      expect(text).toContain(name);
    }
    for (const name of ['retrain_online_accuracy_ratio', 'retrain_feature_drift_score', 'retrain_predicted_class_ratio', 'retrain_labels_pending', 'retrain_gateway_prediction_score_ratio_bucket']) {
      expect(text).toContain(name);
    }
    const defined = definedMetricNames();
    expect([...retrainMetricsIn(text)].filter((name) => !defined.has(name) && !METRICS_DEFINED_ELSEWHERE.includes(name))).toEqual([]);
  });
});
