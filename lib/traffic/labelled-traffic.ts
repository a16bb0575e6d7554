/**
 * Real requests with their ground truth, replayed against a gateway: each prediction is
 * followed by its true label as feedback, the way labels arrive in production (here at
 * once). This is what a shadow or a canary needs to be judged on accuracy; `retrain traffic`
 * and the live-promotion tests use it.
 */
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { loadFeatureTable } from '../data/feature-table-loader';
import { findLatestDatasetForDay } from '../db/repositories/datasets';
import type { Database } from '../db/schema';
import { mulberry32, shuffleInPlace } from '../stats/seeded-random';
import type { ArtifactStore } from '../store/artifact-store';

/** One instance as the gateway takes it, and its true label. */
export interface LabelledRequest {
  instance: Record<string, number | string>;
  label: 0 | 1;
}

/** The seed traffic is sampled with unless another is given: the same rows, in the same order, every time. */
export const DEFAULT_TRAFFIC_SEED = 1;

/** Labelled requests drawn from a day, and what the whole day looked like. */
export interface LabelledDaySample {
  requests: LabelledRequest[];
  /** Rows of the day's snapshot that have a label... */
  dayRows: number;
  /** ...and the share of them that are positive (the delay rate, for flights). */
  dayPositiveRate: number;
}

/**
 * `limit` rows drawn without replacement from the whole of a day's ingested snapshot (checksum
 * verified), in a seeded random order (a Fisher-Yates shuffle of the row indices with
 * lib/stats/seeded-random): the same seed gives the same requests. The first rows of a snapshot
 * are not a sample: flights are stored by departure time, and the morning's first flights are
 * delayed about half as often as the day's (the first 5000 rows of 2001-01-10: 0.121, the day 0.235).
 */
export async function sampleLabelledDay(
  deps: { db: Kysely<Database>; store: Pick<ArtifactStore, 'downloadToFile'>; workDir: string },
  spec: ModelSpec,
  day: string,
  options: { limit: number; seed?: number },
): Promise<LabelledDaySample> {
  const dataset = await findLatestDatasetForDay(deps.db, spec.name, day);
  if (!dataset) throw new Error(`model '${spec.name}' has no snapshot of ${day}: run the pipeline for a window that includes it first`);
  const file = path.join(deps.workDir, `traffic-${spec.name}-${day}-${dataset.id}.parquet`);
  await deps.store.downloadToFile({ key: dataset.snapshotKey, sha256: dataset.snapshotSha256 }, file);
  const table = await loadFeatureTable([file], spec);
  const labels = table.label;
  if (!labels) throw new Error(`the snapshot of ${day} has no label column '${spec.label.name}'`);
  const order = Uint32Array.from({ length: table.rows }, (_, i) => i);
  shuffleInPlace(order, mulberry32(options.seed ?? DEFAULT_TRAFFIC_SEED));
  const chosen = order.subarray(0, Math.min(table.rows, options.limit));
  let positives = 0;
  for (let i = 0; i < table.rows; i++) positives += labels[i] === 1 ? 1 : 0;
  return {
    requests: Array.from(chosen, (i) => ({
      instance: Object.fromEntries(spec.features.map((f) => [f.name, f.kind === 'numeric' ? table.numeric[f.name]![i]! : (table.categorical[f.name]![i] ?? '')])),
      label: labels[i] === 1 ? 1 : 0,
    })),
    dayRows: table.rows,
    dayPositiveRate: table.rows === 0 ? NaN : positives / table.rows,
  };
}

/** `limit` labelled requests sampled across a day (see sampleLabelledDay). */
export async function labelledRequestsFromDay(
  deps: { db: Kysely<Database>; store: Pick<ArtifactStore, 'downloadToFile'>; workDir: string },
  spec: ModelSpec,
  day: string,
  limit: number,
  seed: number = DEFAULT_TRAFFIC_SEED,
): Promise<LabelledRequest[]> {
  return (await sampleLabelledDay(deps, spec, day, { limit, seed })).requests;
}

export interface TrafficReport {
  /** Predictions sent (feedback not counted). */
  sent: number;
  /** Labels the gateway took (feedback answered 202). */
  labelled: number;
  /** Predictions or feedback that failed. */
  failed: number;
  /** The first few failures' messages. */
  failures: string[];
  /** Answered requests by the role that answered them. */
  served: { champion: number; canary: number };
  /** Ids of the answered requests, when asked for (`keepRequestIds`). */
  requestIds: string[];
}

export interface LabelledTrafficOptions {
  /** The gateway's base URL. */
  url: string;
  /** Sent as `Authorization: Bearer <key>`: needs the predict scope, and feedback unless withFeedback is false. Omit for an open gateway. */
  apiKey?: string;
  model: string;
  /** Replayed in order, round and round (sampleLabelledDay's order is already random). */
  requests: readonly LabelledRequest[];
  /** Clients sending at once, each as fast as the gateway answers. */
  concurrency: number;
  /** Request ids are `<prefix>-<n>`: feedback is taken once per id, so a prefix must not repeat. */
  prefix: string;
  /** Users behind the requests: the routing keys (canary stickiness) cycle through this many. Default 5000. */
  users?: number;
  keepRequestIds?: boolean;
  /** Send each label as feedback after its prediction; default true. */
  withFeedback?: boolean;
}

/** Starts the clients; `report` is live, `stop()` lets the requests in flight finish and returns it. */
export function startLabelledTraffic(options: LabelledTrafficOptions): { report: Readonly<TrafficReport>; stop(): Promise<TrafficReport> } {
  if (options.requests.length === 0) throw new Error('no requests to replay');
  const users = options.users ?? 5000;
  let running = true;
  let next = 0;
  const report: TrafficReport = { sent: 0, labelled: 0, failed: 0, failures: [], served: { champion: 0, canary: 0 }, requestIds: [] };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const post = (endpoint: string, body: unknown) =>
    fetch(`${options.url}/v1/models/${encodeURIComponent(options.model)}/${endpoint}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const client = async (clientIndex: number) => {
    while (running) {
      const i = next++;
      const request = options.requests[i % options.requests.length]!;
      const requestId = `${options.prefix}-${i}`;
      report.sent++;
      try {
        const answer = await post('predict', { instance: request.instance, requestId, routingKey: `user-${(i * 7919 + clientIndex) % users}` });
        if (!answer.ok) throw new Error(`predict ${answer.status}: ${await answer.text()}`);
        const { role } = (await answer.json()) as { role: 'champion' | 'canary' };
        report.served[role]++;
        if (options.keepRequestIds) report.requestIds.push(requestId);
        if (options.withFeedback === false) continue;
        const feedback = await post('feedback', { requestId, label: request.label });
        if (feedback.status !== 202) throw new Error(`feedback ${feedback.status}: ${await feedback.text()}`);
        await feedback.arrayBuffer();
        report.labelled++;
      } catch (err) {
        report.failed++;
        if (report.failures.length < 10) report.failures.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: options.concurrency }, (_, c) => client(c));
  return {
    report,
    async stop() {
      running = false;
      await Promise.all(clients);
      return report;
    },
  };
}
