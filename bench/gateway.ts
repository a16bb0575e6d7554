/**
 * bench:gateway — what the inference gateway costs over a bare fastify + onnxruntime-node
 * server, and what it gives over the server a user would otherwise write, on the same ONNX
 * model (a logistic regression trained here on flight-delay data) and the same JSON body, in
 * the same run:
 *   (a) baseline   bench/bare-onnx-server.ts
 *   (b) gateway    API keys, validation, champion routing, metrics, every prediction logged to Postgres
 *   (c) + shadow   the same with a shadow version deployed (every request mirrored and logged)
 *   (d) FastAPI    bench/python/fastapi-server.py: FastAPI + uvicorn (one worker, uvloop and
 *                  httptools) + pydantic validation + onnxruntime, with an `async def` endpoint
 *                  and with a `def` one (FastAPI runs those in its thread pool); its pinned
 *                  Python environment is made once in the cache directory (lib/dev-stack/python-environment.ts)
 * Each server runs in its own process; the load comes from this one. Each round measures
 *   - at capacity: (a), (b), (c), (d) under autocannon (closed loop, `connections` requests always in flight);
 *   - at the same offered load: (c) then (b) under bench/paced-load.ts (open loop, Poisson
 *     arrivals at BENCH_GATEWAY_PACED_LOAD × the capacity (c) showed in this round), where the
 *     p50 shows what the shadow adds to a caller's wait rather than what it takes from capacity
 *     (in a closed loop at capacity, latency is connections ÷ throughput).
 * The table shows the median of the rounds; each ratio is the median of the ratios within a
 * round (runs seconds apart), so that the machine's changing load (the cores are shared) hits
 * both sides of a ratio alike.
 *
 * req/s counts 2xx answers per second of the run; p50/p99 are exact percentiles of every 2xx
 * answer's latency, from writing the request to the end of the answer (autocannon's own
 * histogram rounds to whole milliseconds, so its per-answer timings are used).
 * Goals: gateway ≥ 0.85× baseline req/s and ≥ 3× FastAPI `async def` req/s (issue 10), gateway
 * p99 ≤ 1.5× baseline p99 and ≤ 0.7× FastAPI `async def` p99, shadow-on p50 ≤ 1.1× shadow-off
 * p50 (checked at capacity and at the same offered load).
 *
 * Every request carries an API key (`Authorization: Bearer`, the same header to the baseline,
 * which ignores it): the gateway checks it as in production, one sha256 per request.
 *
 * Postgres and S3 come from the environment (DATABASE_URL, S3_ENDPOINT) or are started here
 * by the same providers as `retrain up` (Temporal is not needed and not started).
 *
 * CPU placement: with `taskset` and at least 2 CPUs, the server under test (baseline or gateway)
 * runs on CPU 0, and this process (autocannon) and a local Postgres on the others. Otherwise the
 * gateway's prediction-log inserts, which in production load a database server of their own,
 * would take CPU from the server they are measured against, and the three processes would
 * be scheduled differently from run to run. BENCH_GATEWAY_PIN=0 turns this off.
 * Environment: BENCH_GATEWAY_SECONDS (6), BENCH_GATEWAY_ROUNDS (5), BENCH_GATEWAY_CONNECTIONS (16),
 * BENCH_GATEWAY_WARMUP_SECONDS (2), BENCH_GATEWAY_PACED_LOAD (0.5), BENCH_GATEWAY_PIN (1), BENCH_GATEWAY_PROFILE (a directory: the
 * gateway process writes a V8 CPU profile there, for `--cpu-prof` analysis).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { renderTable } from '../cli/runs/version-table';
import { pacedLoad } from './paced-load';
import { startGateway } from '../gateway/main';
import { loadModelSpec } from '../lib/config/model-spec-file';
import { type ModelSpec } from '../lib/spec/model-spec';
import { quantileOfSorted } from '../lib/stats/quantile';
import { loadFeatureTable } from '../lib/data/feature-table-loader';
import { prepareFlightDelayPartitions } from '../lib/data/flight-delay-prep';
import { createDatabase } from '../lib/db/connection';
import { migrateToLatest } from '../lib/db/migrate';
import { applyDeploymentChange, type DeploymentTraffic } from '../lib/db/repositories/deployments';
import type { ModelVersion } from '../lib/db/repositories/model-versions';
import { upsertModel } from '../lib/db/repositories/models';
import type { Database } from '../lib/db/schema';
import { provideDatabase } from '../lib/dev-stack/database-provider';
import { createS3Client } from '../lib/clients/s3-client';
import { localOnlyEnvironment, type S3Config } from '../lib/config/environment';
import { generateApiKey, hashApiKey, type GatewayApiKeyEntry } from '../lib/config/gateway-api-keys';
import { PYTHON_ENVIRONMENTS, preparePythonEnvironment } from '../lib/dev-stack/python-environment';
import { provideS3 } from '../lib/dev-stack/s3-provider';
import { ArtifactStore } from '../lib/store/artifact-store';
import { registerUploadedVersion } from '../test/fixtures/registered-version';
import { exportBuiltinModelToOnnx, trainBuiltinModel } from '../lib/training/trainers';

const SECONDS = Number(process.env.BENCH_GATEWAY_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_GATEWAY_CONNECTIONS ?? 16);
const WARMUP_SECONDS = Number(process.env.BENCH_GATEWAY_WARMUP_SECONDS ?? 2);
const WORKFLOW_ID = 'bench-gateway';
/** The bench's API key, made per run; the gateway child gets only its hashed entry. */
const API_KEY = generateApiKey();
const AUTH_HEADERS = { authorization: `Bearer ${API_KEY}` };
/** argv[2] that makes this file serve a gateway (a child process of the bench). */
const SERVE_GATEWAY = '--serve-gateway';

/** The part of autocannon's API used here (the package ships no types, and @types/autocannon is not a dependency). */
interface AutocannonRun extends PromiseLike<{ duration: number; errors: number; timeouts: number }> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}
const autocannon = createRequire(__filename)('autocannon') as (options: {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
}) => AutocannonRun;

/** CPU sets when pinning: the server under test, and everything else (this process, Postgres). */
const PINNING = cpuPinning();

const GOALS = { throughputRatio: 0.85, p99Ratio: 1.5, shadowP50Ratio: 1.1, fastApiThroughputRatio: 3, fastApiP99Ratio: 0.7 };
/** Offered load of the paced runs, as a share of the gateway-with-shadow's capacity measured in the same round. */
const PACED_LOAD = Number(process.env.BENCH_GATEWAY_PACED_LOAD ?? 0.5);

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** Paced runs: requests that waited for a free connection. */
  queued: number;
  /** CPU time per answered request, in microseconds: the server process, Postgres (all its processes), this process (autocannon). */
  cpu: { server: number; postgres: number; client: number } | null;
}

type Contender = 'baseline' | 'FastAPI async def' | 'FastAPI def' | 'gateway' | 'gateway + shadow';
/** Runs of a round: each contender at capacity (closed loop), then the gateway without and with shadow at the same offered load. */
type Run = Contender | 'gateway + shadow, paced' | 'gateway, paced';
const RUNS: readonly Run[] = ['baseline', 'FastAPI async def', 'FastAPI def', 'gateway', 'gateway + shadow', 'gateway + shadow, paced', 'gateway, paced'];

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.argv[2] === SERVE_GATEWAY) return serveGateway();

  const dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-bench-gateway-'));
  await chmod(dir, 0o711); // Postgres runs as an unprivileged user that must enter it.
  const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
  const children: ChildProcess[] = [];
  const environment = localOnlyEnvironment(dir, 'embedded');
  const database = await provideDatabase({ environment, dataDir: path.join(dir, 'postgres'), logDir: path.join(dir, 'logs'), log });
  const s3 = await provideS3({ environment, dataDir: path.join(dir, 's3'), logDir: path.join(dir, 'logs'), log }).catch(async (err: unknown) => {
    await database.stop();
    throw err;
  });
  const db = createDatabase(database.url, 2);
  try {
    await migrateToLatest(db);
    const model = await prepareModel(db, s3.config, dir, log);
    const body = JSON.stringify({ instance: model.instance });

    const baseline = await spawnServer(nodeCommand(path.join(__dirname, 'bare-onnx-server.ts'), [model.onnxFile]), {}, children);
    const python = await preparePythonEnvironment(environment.cacheDir, 'fastapi', PYTHON_ENVIRONMENTS.fastapi, log);
    const featuresFile = path.join(dir, 'features.json');
    await writeFile(featuresFile, JSON.stringify(model.spec.features.map((f) => ({ name: f.name, kind: f.kind }))));
    const fastApi = (mode: 'async' | 'def') =>
      spawnServer([path.join(python.binDir, 'python3'), path.join(__dirname, 'python', 'fastapi-server.py'), model.onnxFile, featuresFile, '0', mode], {}, children);
    const fastApiAsync = await fastApi('async');
    const fastApiDef = await fastApi('def');
    const profile = process.env.BENCH_GATEWAY_PROFILE;
    const gateway = await spawnServer(
      nodeCommand(__filename, [SERVE_GATEWAY], profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(profile)] : []),
      {
        BENCH_GATEWAY_CONFIG: JSON.stringify({
          databaseUrl: database.url,
          s3: s3.config,
          keys: [{ name: 'bench', sha256: hashApiKey(API_KEY), models: [model.spec.name], scopes: ['predict'] }] satisfies GatewayApiKeyEntry[],
        }),
      },
      children,
    );
    const postmaster = await postmasterPid(db);
    if (PINNING) {
      pinProcess(process.pid, PINNING.others);
      if (postmaster !== null) {
        for (const pid of [postmaster, ...childPids(postmaster)]) {
          pinProcess(pid, PINNING.others);
          // Postgres stands in for a database server of its own: it gets the CPU the load generator leaves.
          spawnSync('renice', ['-n', '10', '-p', String(pid)], { stdio: 'ignore' });
        }
      }
      log(`pinned: servers on CPU ${PINNING.server}, autocannon${postmaster !== null ? ' and Postgres' : ''} on CPU ${PINNING.others}`);
    }
    const targets: Record<Contender, { url: string; pids: { server: number; postmaster: number | null } }> = {
      baseline: { url: `${baseline.url}/predict`, pids: { server: baseline.pid, postmaster } },
      'FastAPI async def': { url: `${fastApiAsync.url}/predict`, pids: { server: fastApiAsync.pid, postmaster } },
      'FastAPI def': { url: `${fastApiDef.url}/predict`, pids: { server: fastApiDef.pid, postmaster } },
      gateway: { url: `${gateway.url}/v1/models/${model.spec.name}/predict`, pids: { server: gateway.pid, postmaster } },
      'gateway + shadow': { url: `${gateway.url}/v1/models/${model.spec.name}/predict`, pids: { server: gateway.pid, postmaster } },
    };
    const setShadow = async (shadowVersionId: string | null, round: number) => {
      await deploy(db, model.spec.name, `round-${round}/shadow-${shadowVersionId ?? 'off'}`, { shadowVersionId });
      await waitForShadow(gateway.url, model.spec.name, shadowVersionId === null ? null : model.shadow.version);
    };

    log(`warming up each server for ${WARMUP_SECONDS} s (${CONNECTIONS} connections), the gateway with and without a shadow`);
    await measure(targets.baseline.url, body, WARMUP_SECONDS);
    await measure(targets['FastAPI async def'].url, body, WARMUP_SECONDS);
    await measure(targets['FastAPI def'].url, body, WARMUP_SECONDS);
    await measure(targets.gateway.url, body, WARMUP_SECONDS);
    await setShadow(model.shadow.id, 0);
    await measure(targets.gateway.url, body, WARMUP_SECONDS);
    await setShadow(null, 0);

    const results = Object.fromEntries(RUNS.map((run) => [run, [] as Measurement[]])) as Record<Run, Measurement[]>;
    for (let round = 1; round <= ROUNDS; round++) {
      let rate = 0;
      for (const run of RUNS) {
        const shadow = run.startsWith('gateway + shadow');
        if (run === 'gateway + shadow') await setShadow(model.shadow.id, round);
        if (run === 'gateway, paced') await setShadow(null, round);
        const target = targets[run === 'gateway, paced' ? 'gateway' : run === 'gateway + shadow, paced' ? 'gateway + shadow' : run];
        const before = await settledLoggedRows(db, model.spec.name);
        const paced = run.endsWith('paced');
        const result = paced ? await measurePaced(target.url, body, rate, SECONDS, target.pids, round) : await measure(target.url, body, SECONDS, target.pids);
        // The paced runs offer the same load: a share of what the gateway with a shadow carried at capacity this round.
        if (run === 'gateway + shadow') rate = Math.round(result.requestsPerSecond * PACED_LOAD);
        results[run].push(result);
        let logged = '';
        if (run.startsWith('gateway')) {
          const expected = result.ok * (shadow ? 2 : 1);
          const rows = await waitForLoggedRows(db, model.spec.name, before + expected);
          // Requests still in flight when autocannon stopped are answered and logged too, so rows ≥ expected.
          logged = `, ${rows - before} prediction rows logged for ${expected} expected`;
        }
        const cpu = result.cpu ? `, CPU µs/request: server ${result.cpu.server.toFixed(0)}, postgres ${result.cpu.postgres.toFixed(0)}, client ${result.cpu.client.toFixed(0)}` : '';
        log(
          `round ${round} ${run}${paced ? ` (${rate} req/s offered)` : ''}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms` +
            `${result.failed > 0 ? `, ${result.failed} failed` : ''}${result.queued ? `, ${result.queued} waited for a connection` : ''}${cpu}${logged}`,
        );
      }
    }
    report(results);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
    await db.destroy();
    await s3.stop();
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Trains the champion and a shadow (another seed) on two days of flight-delay data and deploys the champion. */
async function prepareModel(db: Kysely<Database>, s3: S3Config, dir: string, log: (msg: string) => void) {
  const example = loadModelSpec(path.join(__dirname, '..', 'examples', 'flight-delay', 'model.json'));
  const spec: ModelSpec = { ...example, name: `flight-delay-bench-${Date.now().toString(36)}` };
  const trainer = spec.training.trainer;
  if (trainer.kind !== 'builtin') throw new Error('examples/flight-delay/model.json must use the built-in trainer');
  const days = await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-04', target: { kind: 'local', dir: path.join(dir, 'source') } });
  const train = await loadFeatureTable(days.slice(0, 2).map((d) => d.key), spec);
  const holdout = await loadFeatureTable([days[2]!.key], spec);
  log(`training two logistic regressions on ${train.rows} flight-delay rows`);
  await upsertModel(db, spec, WORKFLOW_ID);
  const client = createS3Client(s3);
  const store = new ArtifactStore({ client, bucket: s3.bucket });
  const versions: ModelVersion[] = [];
  let onnxFile = '';
  for (const seed of [1, 2]) {
    const model = await trainBuiltinModel({ table: train, features: spec.features, classes: 2, options: { ...trainer, seed }, epochs: trainer.epochs });
    const bytes = exportBuiltinModelToOnnx(model);
    if (seed === 1) {
      onnxFile = path.join(dir, 'champion.onnx');
      await writeFile(onnxFile, bytes);
    }
    const registered = { spec: { ...spec, training: { ...spec.training, trainer: { ...trainer, seed } } }, onnx: bytes, fingerprint: `bench-seed-${seed}`, registeredBy: 'bench:gateway', workflowId: WORKFLOW_ID };
    versions.push(await registerUploadedVersion(db, store, registered));
  }
  client.destroy();
  await deploy(db, spec.name, 'champion', { championVersionId: versions[0]!.id });
  const row = 123;
  const instance = Object.fromEntries(spec.features.map((f) => [f.name, f.kind === 'numeric' ? holdout.numeric[f.name]![row]! : holdout.categorical[f.name]![row]!]));
  return { spec, onnxFile, instance, shadow: versions[1]! };
}

async function deploy(db: Kysely<Database>, model: string, change: string, set: Partial<DeploymentTraffic>): Promise<void> {
  await applyDeploymentChange(db, { model, changeKey: `${WORKFLOW_ID}/${change}`, reason: `bench:gateway ${change}`, workflowId: WORKFLOW_ID, set });
}

async function waitForShadow(gatewayUrl: string, model: string, shadowVersion: number | null): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { models } = (await (await fetch(`${gatewayUrl}/v1/models`)).json()) as { models: { model: string; shadow: number | null }[] };
    if (models.find((m) => m.model === model)?.shadow === shadowVersion) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the gateway did not apply shadow v${shadowVersion} within 10 s`);
}

async function loggedRows(db: Kysely<Database>, model: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from predictions where model = ${model}`.execute(db);
  return Number(rows[0]!.n);
}

/** The row count once the prediction log stopped growing (the previous run's rows are all written). */
async function settledLoggedRows(db: Kysely<Database>, model: string): Promise<number> {
  let last = await loggedRows(db, model);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await loggedRows(db, model);
    if (rows === last) return rows;
    last = rows;
  }
}

/** Waits until the gateway's prediction log caught up (or stops growing); returns the row count. */
async function waitForLoggedRows(db: Kysely<Database>, model: string, expected: number): Promise<number> {
  let last = -1;
  for (let stable = 0; stable < 20; ) {
    const rows = await loggedRows(db, model);
    if (rows >= expected) return rows;
    stable = rows === last ? stable + 1 : 0;
    last = rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last;
}

/** autocannon against one URL; percentiles from every 2xx answer's own timing. */
async function measure(url: string, body: string, seconds: number, pids?: { server: number; postmaster: number | null }): Promise<Measurement> {
  const cpuBefore = pids && cpuSnapshot(pids);
  const latencies: number[] = [];
  let failed = 0;
  const instance = autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json', ...AUTH_HEADERS }, body, connections: CONNECTIONS, duration: seconds });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else failed++;
  });
  const result = await instance;
  failed += result.errors + result.timeouts;
  const cpu = pids ? cpuPerRequest(cpuBefore!, cpuSnapshot(pids), latencies.length) : null;
  const sorted = Float64Array.from(latencies).sort();
  return { requestsPerSecond: latencies.length / result.duration, p50: quantileOfSorted(sorted, 0.5), p99: quantileOfSorted(sorted, 0.99), ok: latencies.length, failed, queued: 0, cpu };
}

/** pacedLoad against one URL at `rate` requests per second (the same arrival times for every run of a round). */
async function measurePaced(url: string, body: string, rate: number, seconds: number, pids: { server: number; postmaster: number | null }, seed: number): Promise<Measurement> {
  const cpuBefore = cpuSnapshot(pids);
  const result = await pacedLoad({ url, body, headers: AUTH_HEADERS, rate, seconds, connections: CONNECTIONS, seed });
  const cpu = cpuPerRequest(cpuBefore, cpuSnapshot(pids), result.ok);
  const sorted = result.latencies.sort();
  return { requestsPerSecond: result.ok / result.duration, p50: quantileOfSorted(sorted, 0.5), p99: quantileOfSorted(sorted, 0.99), ok: result.ok, failed: result.failed, queued: result.queued, cpu };
}

function cpuPerRequest(before: ReturnType<typeof cpuSnapshot>, after: ReturnType<typeof cpuSnapshot>, requests: number): Measurement['cpu'] {
  const perRequest = (b: number | null, a: number | null) => (b !== null && a !== null ? ((a - b) * 1000) / requests : NaN);
  return { server: perRequest(before.server, after.server), postgres: perRequest(before.postgres, after.postgres), client: perRequest(before.client, after.client) };
}

/** CPU milliseconds (user + system) used so far: a process, a Postgres server (postmaster and its children) and this process. */
function cpuSnapshot(pids: { server: number; postmaster: number | null }): { server: number | null; postgres: number | null; client: number } {
  const usage = process.cpuUsage();
  let postgres: number | null = null;
  if (pids.postmaster !== null) {
    // Backends and autovacuum workers come and go: exited ones are in the postmaster's children total.
    const postmaster = procStat(pids.postmaster);
    postgres = postmaster ? postmaster.cpuMs + postmaster.exitedChildrenCpuMs : null;
    for (const entry of safeReaddir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = procStat(Number(entry));
      if (postgres !== null && stat?.ppid === pids.postmaster) postgres += stat.cpuMs;
    }
  }
  return { server: processCpuMs(pids.server), postgres, client: (usage.user + usage.system) / 1000 };
}

/**
 * Linux /proc/<pid>/stat: parent pid, utime + stime, and cutime + cstime (children that exited
 * and were waited for), in ms (clock ticks of 10 ms); null elsewhere.
 */
function procStat(pid: number): { ppid: number; cpuMs: number; exitedChildrenCpuMs: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
      exitedChildrenCpuMs: (Number(fields[13]) + Number(fields[14])) * 10,
    };
  } catch {
    return null;
  }
}

function processCpuMs(pid: number): number | null {
  return procStat(pid)?.cpuMs ?? null;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `taskset` CPU lists, or null when pinning is off, unavailable or pointless (one CPU). */
function cpuPinning(): { server: string; others: string } | null {
  const cpus = os.cpus().length;
  if (process.env.BENCH_GATEWAY_PIN === '0' || process.argv[2] === SERVE_GATEWAY || cpus < 2) return null;
  if (spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status !== 0) return null;
  return { server: '0', others: cpus === 2 ? '1' : `1-${cpus - 1}` };
}

function pinProcess(pid: number, cpus: string): void {
  spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function childPids(parent: number): number[] {
  return safeReaddir('/proc').flatMap((entry) => (/^\d+$/.test(entry) && procStat(Number(entry))?.ppid === parent ? [Number(entry)] : []));
}

/** The local Postgres server's main process (parent of our backend), when it runs on this machine. */
async function postmasterPid(db: Kysely<Database>): Promise<number | null> {
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
  return procStat(rows[0]!.pid)?.ppid ?? null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(results: Record<Run, Measurement[]>): void {
  const across = (run: Run, of: (m: Measurement) => number) => median(results[run].map(of));
  /** Median over rounds of a ratio taken within each round. */
  const ratio = (of: (m: Measurement) => number, a: Run, b: Run) => median(results[a].map((m, round) => of(m) / of(results[b][round]!)));
  const row = (run: Run, extra: string[]) => [
    run,
    across(run, (m) => m.requestsPerSecond).toFixed(0),
    across(run, (m) => m.p50).toFixed(3),
    across(run, (m) => m.p99).toFixed(3),
    String(results[run].reduce((n, m) => n + m.failed, 0)),
    ...extra,
  ];
  process.stdout.write(
    `\nbench:gateway — ${ROUNDS} rounds × ${SECONDS} s, ${CONNECTIONS} connections; ${os.cpus().length} CPUs` +
      `${PINNING ? ` (server on CPU ${PINNING.server}, load generator and Postgres on ${PINNING.others})` : ''}, node ${process.version}\n` +
      'values: median of the rounds; ratios: median of the ratios within each round\n\n' +
      'at capacity (autocannon, closed loop: each connection sends again when answered)\n',
  );
  const capacity: Contender[] = ['baseline', 'FastAPI async def', 'FastAPI def', 'gateway', 'gateway + shadow'];
  process.stdout.write(
    `${renderTable(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'req/s ÷ baseline', 'p99 ÷ baseline', 'server CPU µs/req'],
      capacity.map((run) =>
        row(run, [
          ratio((m) => m.requestsPerSecond, run, 'baseline').toFixed(3),
          ratio((m) => m.p99, run, 'baseline').toFixed(3),
          results[run].every((m) => m.cpu) ? across(run, (m) => m.cpu!.server).toFixed(0) : '-',
        ]),
      ),
    )}\n\n` +
      `at the same offered load (open loop, Poisson arrivals at ${PACED_LOAD} × the gateway + shadow's capacity of the round)\n` +
      `${renderTable(
        ['server', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'p50 ÷ gateway', 'p99 ÷ gateway'],
        (['gateway, paced', 'gateway + shadow, paced'] as const).map((run) =>
          row(run, [ratio((m) => m.p50, run, 'gateway, paced').toFixed(3), ratio((m) => m.p99, run, 'gateway, paced').toFixed(3)]),
        ),
      )}\n\n`,
  );
  const throughput = ratio((m) => m.requestsPerSecond, 'gateway', 'baseline');
  const p99 = ratio((m) => m.p99, 'gateway', 'baseline');
  const shadowP50 = ratio((m) => m.p50, 'gateway + shadow', 'gateway');
  const shadowP50SameLoad = ratio((m) => m.p50, 'gateway + shadow, paced', 'gateway, paced');
  const shadowCapacity = ratio((m) => m.requestsPerSecond, 'gateway + shadow', 'gateway');
  const fastApiThroughput = ratio((m) => m.requestsPerSecond, 'gateway', 'FastAPI async def');
  const fastApiP99 = ratio((m) => m.p99, 'gateway', 'FastAPI async def');
  const fastApiDefThroughput = ratio((m) => m.requestsPerSecond, 'gateway', 'FastAPI def');
  const fastApiDefP99 = ratio((m) => m.p99, 'gateway', 'FastAPI def');
  const measuredCpu = (['gateway', 'FastAPI async def'] as const).every((run) => results[run].every((m) => m.cpu));
  const fastApiCpu = measuredCpu ? ratio((m) => m.cpu!.server, 'gateway', 'FastAPI async def') : null;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  process.stdout.write(
    [
      `gateway / baseline req/s               ${throughput.toFixed(3)}  (goal ≥ ${GOALS.throughputRatio}: ${verdict(throughput >= GOALS.throughputRatio)})`,
      `gateway / baseline p99                 ${p99.toFixed(3)}  (goal ≤ ${GOALS.p99Ratio}: ${verdict(p99 <= GOALS.p99Ratio)})`,
      `gateway / FastAPI async def req/s      ${fastApiThroughput.toFixed(3)}  (goal ≥ ${GOALS.fastApiThroughputRatio}: ${verdict(fastApiThroughput >= GOALS.fastApiThroughputRatio)})`,
      `gateway / FastAPI async def p99        ${fastApiP99.toFixed(3)}  (goal ≤ ${GOALS.fastApiP99Ratio}: ${verdict(fastApiP99 <= GOALS.fastApiP99Ratio)})`,
      `gateway / FastAPI def req/s, p99       ${fastApiDefThroughput.toFixed(3)}, ${fastApiDefP99.toFixed(3)}`,
      ...(fastApiCpu === null ? [] : [`gateway / FastAPI async def server CPU per request ${fastApiCpu.toFixed(3)}  (CPU time depends less than req/s on what else the machine runs)`]),
      `shadow on / off p50, at capacity       ${shadowP50.toFixed(3)}  (goal ≤ ${GOALS.shadowP50Ratio}: ${verdict(shadowP50 <= GOALS.shadowP50Ratio)})`,
      `shadow on / off p50, same offered load ${shadowP50SameLoad.toFixed(3)}  (goal ≤ ${GOALS.shadowP50Ratio}: ${verdict(shadowP50SameLoad <= GOALS.shadowP50Ratio)})`,
      `shadow on / off req/s, at capacity     ${shadowCapacity.toFixed(3)}  (the shadow scores every request again, and its rows are logged)`,
      '',
    ].join('\n'),
  );
}

/** The command that runs a TypeScript file through tsx. */
function nodeCommand(file: string, args: string[], nodeArgs: string[] = []): string[] {
  return [process.execPath, ...nodeArgs, '--import', 'tsx', file, ...args];
}

/** Starts a server (`argv`) and resolves with its pid and the URL it prints as `listening <url>`. */
async function spawnServer(argv: string[], env: Record<string, string>, children: ChildProcess[]): Promise<{ url: string; pid: number }> {
  const file = argv.find((a) => /\.(ts|py)$/.test(a)) ?? argv[0]!;
  // taskset execs the server in place: the child's pid is the server's.
  const command = PINNING ? ['taskset', '-c', PINNING.server, ...argv] : argv;
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${path.basename(file)} exited with code ${code} before listening`)));
    lines.on('line', (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match) resolve({ url: match[1]!, pid: child.pid! });
    });
  });
}

/** Child process: a gateway over the bench's Postgres and S3, as `retrain up` would start it. */
async function serveGateway(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_GATEWAY_CONFIG ?? '{}') as { databaseUrl: string; s3: S3Config; keys: GatewayApiKeyEntry[] };
  const running = await startGateway({
    databaseUrl: config.databaseUrl,
    s3: config.s3,
    auth: { mode: 'keys', keys: config.keys },
    port: 0,
    log: pino({ level: 'warn' }, pino.destination(2)),
  });
  process.stdout.write(`listening ${running.url}\n`);
  await new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await running.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
