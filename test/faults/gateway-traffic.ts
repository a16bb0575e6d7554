import type { ModelSpec } from '../../lib/spec/model-spec';

/** A plausible flight for the example's features (values need not come from data to be served). */
export function sampleInstance(spec: ModelSpec, i: number): Record<string, number | string> {
  const origins = ['SEA', 'JFK', 'ORD', 'ATL', 'LAX'];
  return Object.fromEntries(
    spec.features.map((f) => [f.name, f.kind === 'numeric' ? (f.name === 'distance' ? 300 + ((i * 37) % 2000) : (i * 5) % 24) : origins[i % origins.length]!]),
  );
}

/** A gateway to send to: its URL and the API key it takes. */
export interface GatewayTarget {
  url: string;
  apiKey: string;
}

export async function predictOnce(gateway: GatewayTarget, spec: ModelSpec, requestId: string, i = 0): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${gateway.url}/v1/models/${spec.name}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.apiKey}` },
    body: JSON.stringify({ instance: sampleInstance(spec, i), requestId }),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** `count` predictions, 4 at a time, ids `<prefix>-<n>`; the failures, each with its status and message. */
export async function sendPredictions(gateway: GatewayTarget, spec: ModelSpec, prefix: string, count: number): Promise<{ failed: string[] }> {
  const failed: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const { status, body } = await predictOnce(gateway, spec, `${prefix}-${i}`, i).catch((err: Error) => ({ status: 0, body: err.message }));
        if (status !== 200) failed.push(`${prefix}-${i}: ${status} ${JSON.stringify(body)}`);
      }
    }),
  );
  return { failed };
}
