import { describe, expect, it } from 'vitest';
import { attributeFailure, GatewayMetrics, LATENCY_BUCKETS_SECONDS, NO_LABEL } from '../../gateway/gateway-metrics';

const champion = (version: number) => ({ version, role: 'champion' });
const canary = (version: number) => ({ version, role: 'canary' });
const shadow = (version: number) => ({ version, role: 'shadow' });

/** The exposition lines of one metric family (without HELP and TYPE). */
async function lines(metrics: GatewayMetrics, name: string): Promise<string[]> {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('gateway metrics', () => {
  it('buckets latencies from 50 µs, so sub-millisecond answers are told apart', async () => {
    const metrics = new GatewayMetrics();
    expect(LATENCY_BUCKETS_SECONDS[0]).toBe(0.00005);
    metrics.answered('m', champion(1), 0.00007);
    metrics.answered('m', champion(1), 0.00032);
    const buckets = await lines(metrics, 'retrain_gateway_request_duration_seconds_bucket');
    expect(buckets).toContain('retrain_gateway_request_duration_seconds_bucket{le="0.00005",model="m",version="1",role="champion"} 0');
    expect(buckets).toContain('retrain_gateway_request_duration_seconds_bucket{le="0.0001",model="m",version="1",role="champion"} 1');
    expect(buckets).toContain('retrain_gateway_request_duration_seconds_bucket{le="0.0004",model="m",version="1",role="champion"} 2');
  });

  it('labels every prediction series with the version, so a new champion is a new series', async () => {
    const metrics = new GatewayMetrics({ retiredSeriesGraceMs: 0 });
    metrics.routeChanged('m', { champion: champion(1), canary: null, canaryWeight: 0, shadow: null });
    metrics.answered('m', champion(1), 0.001);
    metrics.routeChanged('m', { champion: champion(2), canary: null, canaryWeight: 0, shadow: null });
    metrics.answered('m', champion(2), 0.001);
    expect(await lines(metrics, 'retrain_gateway_served_version_info')).toEqual(['retrain_gateway_served_version_info{model="m",version="2",role="champion"} 1']);
    await settle();
    // v1 no longer serves: its series are gone after the grace period; v2's stay.
    expect(await lines(metrics, 'retrain_gateway_requests_total')).toEqual(['retrain_gateway_requests_total{model="m",version="2",role="champion",status="200"} 1']);
    expect((await lines(metrics, 'retrain_gateway_request_duration_seconds_count'))).toEqual(['retrain_gateway_request_duration_seconds_count{model="m",version="2",role="champion"} 1']);
  });

  it('keeps a retired version\'s series for the grace period, so its last increments are scraped', async () => {
    const metrics = new GatewayMetrics({ retiredSeriesGraceMs: 60_000 });
    metrics.routeChanged('m', { champion: champion(1), canary: null, canaryWeight: 0, shadow: null });
    metrics.answered('m', champion(1), 0.001);
    metrics.routeChanged('m', { champion: champion(2), canary: null, canaryWeight: 0, shadow: null });
    await settle();
    expect(await lines(metrics, 'retrain_gateway_requests_total')).toEqual(['retrain_gateway_requests_total{model="m",version="1",role="champion",status="200"} 1']);
    metrics.close();
  });

  it('exports the canary weight by canary version, and drops it with the canary', async () => {
    const metrics = new GatewayMetrics({ retiredSeriesGraceMs: 0 });
    metrics.routeChanged('m', { champion: champion(1), canary: canary(2), canaryWeight: 0.05, shadow: null });
    expect(await lines(metrics, 'retrain_gateway_canary_weight_ratio')).toEqual(['retrain_gateway_canary_weight_ratio{model="m",version="2"} 0.05']);
    metrics.routeChanged('m', { champion: champion(1), canary: canary(2), canaryWeight: 0.25, shadow: null });
    expect(await lines(metrics, 'retrain_gateway_canary_weight_ratio')).toEqual(['retrain_gateway_canary_weight_ratio{model="m",version="2"} 0.25']);
    metrics.routeChanged('m', { champion: champion(2), canary: null, canaryWeight: 0, shadow: null });
    expect(await lines(metrics, 'retrain_gateway_canary_weight_ratio')).toEqual([]);
  });

  it('histograms predicted scores per version and role, and drops a shadow\'s series when it stops', async () => {
    const metrics = new GatewayMetrics({ retiredSeriesGraceMs: 0 });
    metrics.routeChanged('m', { champion: champion(1), canary: null, canaryWeight: 0, shadow: shadow(2) });
    const scores = metrics.scores('m', champion(1));
    for (const p of [0.01, 0.07, 0.93]) scores.observe(p);
    metrics.scores('m', shadow(2)).observe(0.5);
    metrics.shadowPredictions.inc({ model: 'm', version: '2', outcome: 'ok' });
    const buckets = await lines(metrics, 'retrain_gateway_prediction_score_ratio_bucket');
    expect(buckets).toContain('retrain_gateway_prediction_score_ratio_bucket{le="0.05",model="m",version="1",role="champion"} 1');
    expect(buckets).toContain('retrain_gateway_prediction_score_ratio_bucket{le="0.1",model="m",version="1",role="champion"} 2');
    expect(buckets).toContain('retrain_gateway_prediction_score_ratio_bucket{le="0.5",model="m",version="2",role="shadow"} 1');
    metrics.routeChanged('m', { champion: champion(1), canary: null, canaryWeight: 0, shadow: null });
    await settle();
    expect((await lines(metrics, 'retrain_gateway_prediction_score_ratio_count'))).toEqual(['retrain_gateway_prediction_score_ratio_count{model="m",version="1",role="champion"} 3']);
    expect(await lines(metrics, 'retrain_gateway_shadow_requests_total')).toEqual([]);
  });

  it('counts a failed request against the version whose scoring failed, or none when refused before routing', async () => {
    const metrics = new GatewayMetrics();
    metrics.failed('m', attributeFailure(new Error('v3 broke'), champion(3)), 500);
    metrics.failed('m', new Error('bad body'), 400);
    metrics.failed(NO_LABEL, new Error('no key'), 401);
    expect(await lines(metrics, 'retrain_gateway_requests_total')).toEqual([
      'retrain_gateway_requests_total{model="m",version="3",role="champion",status="500"} 1',
      'retrain_gateway_requests_total{model="m",version="none",role="none",status="400"} 1',
      'retrain_gateway_requests_total{model="none",version="none",role="none",status="401"} 1',
    ]);
  });
});
