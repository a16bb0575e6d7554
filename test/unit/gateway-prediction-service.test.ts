import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { DeploymentRouter } from '../../gateway/deployment-router';
import { GatewayMetrics } from '../../gateway/gateway-metrics';
import { createInstanceValidator } from '../../gateway/instance-validation';
import type { ModelRoute, ServedVersion } from '../../gateway/model-route';
import type { FeatureRecord, ModelSession, ScoringAttempt } from '../../gateway/model-session';
import type { ParsedPrediction } from '../../gateway/predict-request';
import { PredictionLog } from '../../gateway/prediction-log';
import { PredictionService, PROBE_INTERVAL_MS } from '../../gateway/prediction-service';
import { predictionSerializer } from '../../lib/db/repositories/predictions';
import type { DeploymentRole } from '../../lib/db/schema';
import type { ServingLogEntry } from '../../lib/db/repositories/serving-log';
import { ServedRequests } from '../../gateway/served-requests';

const log = pino({ level: 'silent' });

/** A stand-in session: scores P = x / 10, or fails; counts references and remembers probes. */
function fakeVersion(id: string, version: number, role: DeploymentRole, behaviour: 'ok' | 'fail' = 'ok') {
  const state = { refs: 0, probes: 0, calls: 0 };
  const session = {
    retain() {
      state.refs++;
      return this;
    },
    release() {
      state.refs--;
    },
    async attempt(rows: readonly FeatureRecord[], alone = false): Promise<ScoringAttempt> {
      state.calls++;
      if (alone) state.probes++;
      await new Promise((resolve) => setImmediate(resolve));
      if (behaviour === 'fail') return { ok: false, error: new Error(`v${version} broke`), latencyMs: 0.1 };
      const probabilities = Float64Array.from(rows, (r) => Number(r.x) / 10);
      return { ok: true, result: { probabilities, classProbabilities: new Float32Array(2 * rows.length), latencyMs: 0.2, scoredAlone: alone } };
    },
  } as unknown as ModelSession;
  const served: ServedVersion = { id, version, role, session, logRow: predictionSerializer({ model: 'm', modelVersionId: id, role }) };
  return { served, state };
}

const COPY_COLUMNS = ['model', 'model_version_id', 'role', 'request_id', 'routing_key', 'features', 'probability', 'predicted_label', 'latency_ms', 'scored_alone', 'error', 'created_at'];

/** A prediction-log line (COPY text format, as predictionSerializer writes it) read back the way Postgres reads it. */
function decodeCopyLine(line: string): Record<string, unknown> {
  expect(line.endsWith('\n')).toBe(true);
  const fields = line.slice(0, -1).split('\t');
  expect(fields).toHaveLength(COPY_COLUMNS.length);
  const text = fields.map((f) => (f === '\\N' ? null : f.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c)));
  const row = Object.fromEntries(COPY_COLUMNS.map((c, i) => [c, text[i]]));
  return {
    ...row,
    features: row.features === null ? null : JSON.parse(row.features as string),
    probability: row.probability === null ? null : Number(row.probability),
    predicted_label: row.predicted_label === null ? null : Number(row.predicted_label),
    latency_ms: Number(row.latency_ms),
    scored_alone: row.scored_alone === 't',
  };
}

function setup(route: Partial<ModelRoute>) {
  const written: Record<string, unknown>[] = [];
  const predictionLog = new PredictionLog<ServingLogEntry>({ write: async (rows) => void written.push(...rows.map((r) => decodeCopyLine(r as string))), log, flushIntervalMs: 1 });
  const served = new ServedRequests({ capacity: 1000, isWritten: (position) => predictionLog.settled >= position });
  const full: ModelRoute = {
    model: 'm',
    revision: 1,
    features: [{ name: 'x', kind: 'numeric' }],
    validator: createInstanceValidator([{ name: 'x', kind: 'numeric' }]),
    champion: null,
    canary: null,
    canaryWeight: 0,
    shadow: null,
    fingerprint: '',
    ...route,
  };
  const router = { get: () => full, status: () => [], models: ['m'] } as unknown as DeploymentRouter;
  const service = new PredictionService({ router, predictionLog, served, metrics: new GatewayMetrics(), log, maxShadowBacklog: 100 });
  const request = (id: string, x = 3): ParsedPrediction => ({ instances: [{ x }], requestId: id, itemIds: [id], routingKey: null, idField: 'requestId' });
  return { service, route: full, written, predictionLog, served, request };
}

describe('PredictionService', () => {
  it('answers with the champion when the canary fails, and logs both attempts under the request id', async () => {
    const champion = fakeVersion('1', 1, 'champion');
    const canary = fakeVersion('2', 2, 'canary', 'fail');
    const { service, route, written, predictionLog, request } = setup({ champion: champion.served, canary: canary.served, canaryWeight: 1 });
    const outcome = await service.predict(route, request('r1'));
    expect(outcome.role).toBe('champion');
    expect(Array.from(outcome.probabilities)).toEqual([0.3]);
    await predictionLog.close();
    expect(written.map((r) => [r.request_id, r.role, r.probability, r.error])).toEqual([
      ['r1', 'canary', null, 'v2 broke'],
      ['r1', 'champion', 0.3, null],
    ]);
    expect(champion.state.refs).toBe(0);
    expect(canary.state.refs).toBe(0);
  });

  it('fails with a 500 naming the version when the champion itself fails', async () => {
    const champion = fakeVersion('1', 1, 'champion', 'fail');
    const { service, route, request } = setup({ champion: champion.served });
    await expect(service.predict(route, request('r2'))).rejects.toMatchObject({ statusCode: 500, message: "model 'm' v1 failed to score the request: v1 broke" });
    expect(champion.state.refs).toBe(0);
  });

  it('mirrors every request to the shadow after answering, logs it with role shadow, and holds the shadow until it is scored', async () => {
    const champion = fakeVersion('1', 1, 'champion');
    const shadow = fakeVersion('3', 3, 'shadow');
    const { service, route, written, predictionLog, request } = setup({ champion: champion.served, shadow: shadow.served });
    await Promise.all([service.predict(route, request('a', 1)), service.predict(route, request('b', 2))]);
    // Answered, not yet mirrored: the shadow is scored after a short window.
    expect(shadow.state.calls).toBe(0);
    expect(shadow.state.refs).toBe(2);
    expect(service.shadowBacklog).toBe(2);
    await service.drainShadows();
    expect(shadow.state.refs).toBe(0);
    await predictionLog.close();
    const shadowRows = written.filter((r) => r.role === 'shadow');
    expect(shadowRows.map((r) => [r.request_id, r.model_version_id, r.probability]).sort()).toEqual([
      ['a', '3', 0.1],
      ['b', '3', 0.2],
    ]);
    // The features are stored once per request, on the serving row.
    expect(shadowRows.every((r) => r.features === null)).toBe(true);
    expect(written.filter((r) => r.role === 'champion').map((r) => [r.request_id, r.features]).sort()).toEqual([
      ['a', { x: 1 }],
      ['b', { x: 2 }],
    ]);
  });

  it('answers with the champion when the shadow fails, and logs the shadow\'s error on its own row', async () => {
    const champion = fakeVersion('1', 1, 'champion');
    const shadow = fakeVersion('3', 3, 'shadow', 'fail');
    const { service, route, written, predictionLog, request } = setup({ champion: champion.served, shadow: shadow.served });
    const outcomes = await Promise.all([service.predict(route, request('a', 1)), service.predict(route, request('b', 2))]);
    expect(outcomes.map((o) => [o.role, Array.from(o.probabilities)])).toEqual([
      ['champion', [0.1]],
      ['champion', [0.2]],
    ]);
    await service.drainShadows();
    await predictionLog.close();
    expect(written.map((r) => [r.request_id, r.role, r.probability, r.error]).sort()).toEqual([
      ['a', 'champion', 0.1, null],
      ['a', 'shadow', null, 'v3 broke'],
      ['b', 'champion', 0.2, null],
      ['b', 'shadow', null, 'v3 broke'],
    ]);
    expect(shadow.state.refs).toBe(0);
  });

  it('writes log lines that survive tabs, newlines and backslashes in ids, features and errors', async () => {
    const serialize = predictionSerializer({ model: 'm\\1', modelVersionId: '7', role: 'champion' });
    const features = { origin: 'O\'Hare\t"terminal"\n\\2', x: 1.5e-7 };
    const line = serialize({
      requestId: 'a\tb\\c',
      routingKey: 'k\r',
      features,
      probability: Number.NaN,
      predictedLabel: null,
      latencyMs: 0.25,
      scoredAlone: false,
      error: 'line 1\nline 2',
      createdAt: '2001-01-09T00:00:00.000Z',
    });
    expect(line.split('\n')).toHaveLength(2);
    expect(decodeCopyLine(line)).toEqual({
      model: 'm\\1',
      model_version_id: '7',
      role: 'champion',
      request_id: 'a\tb\\c',
      routing_key: 'k\r',
      features,
      probability: null,
      predicted_label: null,
      latency_ms: 0.25,
      scored_alone: false,
      error: 'line 1\nline 2',
      created_at: '2001-01-09T00:00:00.000Z',
    });
  });

  it('makes the first request PROBE_INTERVAL_MS after the previous probe a latency probe, for the serving version and the shadow alike', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const champion = fakeVersion('1', 1, 'champion');
      const shadow = fakeVersion('3', 3, 'shadow');
      const { service, route, written, predictionLog, request } = setup({ champion: champion.served, shadow: shadow.served });
      const start = Date.now();
      // The first request is a probe (none came before it); the next ones within the interval are not.
      for (const [id, atMs] of [['a', 0], ['b', 0], ['c', PROBE_INTERVAL_MS - 1], ['d', PROBE_INTERVAL_MS], ['e', PROBE_INTERVAL_MS + 1], ['f', 3 * PROBE_INTERVAL_MS]] as const) {
        vi.setSystemTime(start + atMs);
        await service.predict(route, request(id));
      }
      await service.drainShadows();
      await predictionLog.close();
      expect(champion.state.probes).toBe(3);
      expect(shadow.state.probes).toBe(3);
      const probes = written.filter((r) => r.scored_alone === true).map((r) => `${r.role}:${r.request_id}`).sort();
      expect(probes).toEqual(['champion:a', 'champion:d', 'champion:f', 'shadow:a', 'shadow:d', 'shadow:f']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a request id used before with a 409, also while the first is still being scored, and frees the id of a failed request', async () => {
    const champion = fakeVersion('1', 1, 'champion');
    const { service, route, request, served } = setup({ champion: champion.served });
    const first = service.predict(route, request('dup'));
    await expect(service.predict(route, request('dup'))).rejects.toMatchObject({ statusCode: 409, code: 'request_id_conflict', field: 'requestId' });
    await first;
    await expect(service.predict(route, request('dup'))).rejects.toMatchObject({ statusCode: 409, message: expect.stringContaining("request id 'dup' was already used") });
    expect(served.state('m', 'dup')).toEqual({ kind: 'served', label: null });
    const failing = fakeVersion('1', 1, 'champion', 'fail');
    const broken = setup({ champion: failing.served });
    await expect(broken.service.predict(broken.route, broken.request('retry-me'))).rejects.toMatchObject({ statusCode: 500 });
    expect(broken.served.state('m', 'retry-me')).toEqual({ kind: 'unknown' });
  });

  it('names the deployed models when asked for an unknown one', () => {
    const { service } = setup({});
    const router = { get: () => undefined, status: () => [], models: ['a', 'b'] } as unknown as DeploymentRouter;
    const predictionLog = new PredictionLog<ServingLogEntry>({ write: async () => {}, log });
    const served = new ServedRequests({ capacity: 10, isWritten: () => true });
    const other = new PredictionService({ router, predictionLog, served, metrics: new GatewayMetrics(), log, maxShadowBacklog: 1 });
    expect(() => other.route('zzz')).toThrow("model 'zzz' is not deployed on this gateway (deployed: a, b)");
    expect(service.route('m').model).toBe('m');
  });
});
