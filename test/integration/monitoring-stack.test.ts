/**
 * deploy/ against a live stack: a real Prometheus (its own data directory, a free port, the
 * shipped prometheus.yml and alerts.yml with a 1 s scrape interval) scrapes a gateway serving a
 * champion, a canary and a shadow under labelled traffic, and a `retrain worker` process that ran
 * one pipeline (its activity metrics, the model gauges, the Temporal SDK's exporter). Every query
 * of every Grafana panel is evaluated through Prometheus's HTTP API and must return a series.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { generateApiKey, hashApiKey } from '../../lib/config/gateway-api-keys';
import { applyDeploymentChange, getDeployment } from '../../lib/db/repositories/deployments';
import { getModelVersion } from '../../lib/db/repositories/model-versions';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { startPrometheus, type PrometheusServer } from '../../lib/dev-stack/prometheus-server';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { labelledRequestsFromDay, startLabelledTraffic } from '../../lib/traffic/labelled-traffic';
import { RETRAINING_PIPELINE, retrainingPipelineId } from '../../workflows/definitions';
import { registerVersion } from '../fixtures/registered-version';
import { dashboardQueries, DEPLOY_DIR, METRICS_WITHOUT_SOURCE_YET, readDashboard } from '../fixtures/monitoring-deploy';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { NO_GATES } from '../fixtures/live-promotion-spec';
import { runDriftMonitorPass } from '../../cli/commands/drift';
import { createPipelineHarness, killWorkerProcess, type PipelineHarness } from './pipeline-harness';

const apiKey = generateApiKey();

interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** Grafana's variables as a dashboard user sees them over the last few minutes: every model, short windows for a 1 s scrape. */
function withVariables(expr: string): string {
  return expr.replaceAll('$model', '.*').replaceAll('$__rate_interval', '10s').replaceAll('$__range', '5m');
}

describe('Prometheus against a live gateway and worker: deploy/ config, alerts and dashboard', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let gateway: Gateway;
  let worker: ChildProcess;
  let prometheus: PrometheusServer;
  let traffic: ReturnType<typeof startLabelledTraffic>;
  let promDir: string;
  const ports = { worker: 0, temporal: 0, gateway: 0 };
  let versions: { champion: number; canary: number; shadow: number };

  const query = async (expr: string): Promise<QueryResult> => {
    const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await response.json()) as QueryResult;
  };

  beforeAll(async () => {
    harness = await createPipelineHarness('monitoring');
    const example = await flightDelayOnHarness(harness, { name: 'flight-delay-monitoring', days: { from: '2001-01-06', to: '2001-01-09' } });
    // The drift pass below reads the few hundred requests this test sends (the default floor is 1000); it never triggers a run.
    const monitoring = { ...example.monitoring!, minRows: 200, trigger: { driftedShare: 1, anyOf: [] } };
    spec = { ...example, gates: NO_GATES, training: { ...example.training, windowPartitions: 3 }, monitoring };

    // The worker as production runs it: `retrain worker`, its metrics on the two ports.
    ports.worker = await findFreePort();
    ports.temporal = await findFreePort();
    worker = harness.startWorkerProcess('worker', {
      RETRAIN_WORKER_METRICS_PORT: String(ports.worker),
      RETRAIN_TEMPORAL_METRICS_PORT: String(ports.temporal),
      RETRAIN_LOG_LEVEL: 'WARN',
    });
    const result = await harness.client.workflow.execute(RETRAINING_PIPELINE, {
      taskQueue: harness.taskQueue,
      workflowId: retrainingPipelineId(spec.name, '2001-01-09'),
      args: [{ spec, day: '2001-01-09' }],
    });
    expect(result.decision).toBe('promote');

    // A canary and a shadow beside the champion (its artifact, registered twice more), so every role has series.
    const { db } = harness.deps;
    const champion = await getModelVersion(db, (await getDeployment(db, spec.name))!.championVersionId!);
    const artifact = { artifactKey: champion.artifactKey, artifactSha256: champion.artifactSha256, artifactSize: champion.artifactSize };
    const register = (fingerprint: string) => registerVersion(db, { spec, artifact, fingerprint, registeredBy: 'the monitoring test', workflowId: 'monitoring-test' });
    const canary = await register('monitoring-canary');
    const shadow = await register('monitoring-shadow');
    versions = { champion: champion.version, canary: canary.version, shadow: shadow.version };
    await applyDeploymentChange(db, {
      model: spec.name,
      changeKey: 'monitoring-test/canary-and-shadow',
      reason: 'the monitoring test: every role served',
      set: { canaryVersionId: canary.id, canaryWeight: 0.3, shadowVersionId: shadow.id },
    });

    gateway = createGateway({
      db,
      store: harness.deps.store,
      databaseUrl: harness.databaseUrl,
      auth: { mode: 'keys', keys: [{ name: 'monitoring-traffic', sha256: hashApiKey(apiKey), models: ['*'], scopes: ['predict', 'feedback'] }] },
    });
    const started = await gateway.start(0);
    ports.gateway = started.port;
    for (let attempt = 0; !(await gateway.readiness()).ready; attempt++) {
      if (attempt > 100) throw new Error('the gateway did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const rows = await labelledRequestsFromDay(harness.deps, spec, '2001-01-09', 500);
    const windowStart = new Date(Date.now() - 1_000).toISOString();
    traffic = startLabelledTraffic({ url: started.url, apiKey, model: spec.name, requests: rows, concurrency: 2, prefix: 'monitoring' });
    // Refused requests, so the 4xx panel has series: no key, and a body that is not an instance.
    await fetch(`${started.url}/v1/models/${spec.name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await fetch(`${started.url}/v1/models/${spec.name}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: '{}' });

    // A drift monitor pass over that traffic, run by the worker as its schedule would: the drift and estimated-accuracy panels read its report.
    // The answered requests (the shadow's mirrored rows are logged too, and are not what the pass counts).
    const answered = async () => Number((await db.selectFrom('predictions').select((eb) => eb.fn.countAll().as('n')).where('model', '=', spec.name).where('role', '!=', 'shadow').executeTakeFirstOrThrow()).n);
    for (let waited = 0; (await answered()) < 250; waited++) {
      if (waited > 600) throw new Error('the traffic did not reach 250 answered requests in a minute');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Windows end on a whole second (as schedules' do): the one just past, after those requests.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const windowEnd = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const drift = await runDriftMonitorPass(harness.client, { spec, taskQueue: harness.taskQueue, windowStart, windowEnd });
    expect(drift.pass.status, drift.pass.message).toBe('ok');
    expect(drift.pass.estimatedAccuracy).not.toBeNull();

    // The shipped configuration with a 1 s scrape and evaluation interval, and target files naming this test's processes.
    promDir = await mkdtemp(path.join(harness.services.workDir, 'prometheus-'));
    const shipped = await readFile(path.join(DEPLOY_DIR, 'prometheus', 'prometheus.yml'), 'utf8');
    const config = shipped.replace('scrape_interval: 15s', 'scrape_interval: 1s').replace('evaluation_interval: 15s', 'evaluation_interval: 1s');
    expect(config).not.toContain('15s');
    await writeFile(path.join(promDir, 'prometheus.yml'), config);
    await copyFile(path.join(DEPLOY_DIR, 'prometheus', 'alerts.yml'), path.join(promDir, 'alerts.yml'));
    await mkdir(path.join(promDir, 'targets'));
    const targets = { gateway: ports.gateway, worker: ports.worker, 'temporal-sdk': ports.temporal };
    for (const [file, port] of Object.entries(targets)) {
      await writeFile(path.join(promDir, 'targets', `${file}.json`), JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { service: 'monitoring-test' } }]));
    }
    prometheus = await startPrometheus({ configFile: path.join(promDir, 'prometheus.yml'), dataDir: path.join(promDir, 'data'), log: (msg) => process.stderr.write(`[prometheus] ${msg}\n`) });
  });

  afterAll(async () => {
    await traffic?.stop();
    await gateway?.close();
    await prometheus?.stop();
    if (worker) killWorkerProcess(worker);
    await harness?.close();
    if (promDir) await rm(promDir, { recursive: true, force: true });
  });

  it('scrapes the gateway, the worker and the Temporal SDK exporter, and loads every alert rule', async () => {
    const deadline = Date.now() + 30_000;
    let health: Record<string, string>;
    for (;;) {
      const { data } = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } };
      health = Object.fromEntries(data.activeTargets.map((t) => [t.labels.job, t.health === 'up' ? 'up' : `${t.health}: ${t.lastError}`]));
      if (Object.values(health).filter((h) => h === 'up').length === 3 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(health).toEqual({ 'retrain-gateway': 'up', 'retrain-worker': 'up', 'temporal-sdk': 'up' });
    const { data } = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; health: string }[] }[] } };
    expect(data.groups.map((g) => g.name).sort()).toEqual(['retrain-gateway', 'retrain-models', 'retrain-worker']);
    const alerts = (await readFile(path.join(DEPLOY_DIR, 'prometheus', 'alerts.yml'), 'utf8')).match(/^\s+- alert: \w+$/gm)!.length;
    expect(data.groups.flatMap((g) => g.rules).filter((r) => r.health !== 'err')).toHaveLength(alerts);
  });

  it('labels the gateway series with the version of each role, and the canary weight with the canary version', async () => {
    const roles = await query(`sum by (version, role) (retrain_gateway_requests_total{model="${spec.name}", status="200"})`);
    const served = Object.fromEntries((roles.data?.result ?? []).map((r) => [r.metric.role, r.metric.version]));
    expect(served).toEqual({ champion: String(versions.champion), canary: String(versions.canary) });
    const scores = await query(`sum by (version, role) (retrain_gateway_prediction_score_ratio_count{model="${spec.name}"})`);
    expect(new Set(scores.data?.result.map((r) => `${r.metric.role} v${r.metric.version}`))).toEqual(
      new Set([`champion v${versions.champion}`, `canary v${versions.canary}`, `shadow v${versions.shadow}`]),
    );
    const weight = await query(`retrain_gateway_canary_weight_ratio{model="${spec.name}"}`);
    expect(weight.data?.result.map((r) => [r.metric.version, r.value[1]])).toEqual([[String(versions.canary), '0.3']]);
  });

  it('evaluates every dashboard panel query to at least one series', async () => {
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(30);
    // Only a query that reads nothing but such metrics may be empty (the Temporal SDK's panels read no retrain_ metric and must answer).
    const withoutSource = (expr: string) => {
      const read = [...expr.matchAll(/\bretrain_[a-z0-9_]+/g)].map((m) => m[0]);
      return read.length > 0 && read.every((name) => METRICS_WITHOUT_SOURCE_YET.includes(name));
    };
    // Labels and the model gauges' readings (every 15 s) take a few scrapes to show: retry until all answer or a minute passed.
    const deadline = Date.now() + 60_000;
    let empty: string[];
    for (;;) {
      empty = [];
      for (const q of queries) {
        if (withoutSource(q.expr)) continue;
        const result = await query(withVariables(q.expr));
        expect(result.status, `${q.panel} ${q.refId}: ${result.error ?? ''}`).toBe('success');
        if ((result.data?.result.length ?? 0) === 0) empty.push(`${q.panel} (${q.refId}): ${q.expr}`);
      }
      if (empty.length === 0 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    expect(empty).toEqual([]);
    // Those without a source here (runs awaiting approval: none waits in this test) are valid queries, only empty.
    for (const q of queries.filter((q) => withoutSource(q.expr))) expect((await query(withVariables(q.expr))).status, q.panel).toBe('success');
  });

  it('exports activity durations by stage from the pipeline run, and the model gauges of the deployed versions', async () => {
    const stages = await query('sum by (stage) (retrain_worker_activity_duration_seconds_count{outcome="completed"})');
    expect(new Set(stages.data?.result.map((r) => r.metric.stage))).toEqual(new Set(['run', 'ingest', 'train', 'evaluate', 'promote', 'drift']));
    const deployed = await query(`retrain_version_deployed_timestamp_seconds{model="${spec.name}"}`);
    expect(new Set(deployed.data?.result.map((r) => `${r.metric.role} v${r.metric.version}`))).toEqual(
      new Set([`champion v${versions.champion}`, `canary v${versions.canary}`, `shadow v${versions.shadow}`]),
    );
    const accuracy = await query(`retrain_online_accuracy_ratio{model="${spec.name}"}`);
    for (const r of accuracy.data?.result ?? []) expect(Number(r.value[1])).toBeGreaterThanOrEqual(0);
    expect(accuracy.data?.result.length).toBeGreaterThan(0);
  });
});
