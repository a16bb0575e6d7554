import path from 'node:path';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { parsePartitionDay } from '../../lib/data/partition-day';
import { getModelSpec } from '../../lib/db/repositories/models';
import { formatCount, formatMetric } from '../../lib/stats/metric-format';
import { sampleLabelledDay, startLabelledTraffic, type TrafficReport } from '../../lib/traffic/labelled-traffic';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { connectToStack } from '../stack/stack-client';

export interface TrafficCommandOptions {
  model: string;
  day: string;
  seconds: number;
  concurrency: number;
  rows: number;
  seed: number;
  gateway?: string;
}

/** How often progress is printed. */
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * `retrain traffic`: replays real rows of an ingested day to the gateway, each prediction
 * followed by its true label as feedback, for `--seconds` or until Ctrl-C. The rows are a seeded
 * sample of the whole day (`--seed`), not its first rows (the earliest departures), and the
 * sample's positive rate is printed next to the day's. This is live traffic
 * for trying the shadow and canary stages by hand: they judge candidates on it. The API key
 * comes from RETRAIN_GATEWAY_API_KEY (scopes predict and feedback; not an option, so that it stays
 * out of shell history and process lists). Exits 1 when a request failed.
 */
export async function trafficCommand(env: RetrainEnvironment, options: TrafficCommandOptions): Promise<void> {
  const day = parsePartitionDay(options.day, '--day');
  const stack = await connectToStack(env);
  let report: TrafficReport;
  try {
    const url = options.gateway ?? stack.connection.gatewayUrl;
    if (!url) throw new Error('no gateway to send traffic to: pass --gateway <url>, set RETRAIN_GATEWAY_URL, or start the stack with `retrain up`');
    const spec = await getModelSpec(stack.db, options.model);
    if (!spec) throw new Error(`unknown model '${options.model}': run its pipeline first`);
    const store = new ArtifactStore({ client: stack.s3, bucket: stack.connection.s3.bucket });
    const sample = await sampleLabelledDay({ db: stack.db, store, workDir: path.join(env.dataDir, 'work') }, spec, day, { limit: options.rows, seed: options.seed });
    const { requests } = sample;
    const sampledRate = requests.filter((r) => r.label === 1).length / requests.length;
    process.stderr.write(
      `[traffic] replaying ${requests.length} rows of ${day} to ${url} with ${options.concurrency} clients for ${options.seconds} s (Ctrl-C stops)\n` +
        `[traffic] sampled across the day with seed ${options.seed}: ${formatCount(requests.length)} of ${formatCount(sample.dayRows)} rows, ` +
        `${spec.label.name} rate ${formatMetric(sampledRate)} (the day's ${formatMetric(sample.dayPositiveRate)})\n`,
    );

    const traffic = startLabelledTraffic({ url, apiKey: env.gatewayApiKey ?? undefined, model: spec.name, requests, concurrency: options.concurrency, prefix: `replay-${day}-${Date.now().toString(36)}` });
    const started = Date.now();
    const progress = setInterval(() => process.stderr.write(`[traffic] ${describe(traffic.report, Date.now() - started)}\n`), PROGRESS_INTERVAL_MS);
    const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    await Promise.race([new Promise((resolve) => setTimeout(resolve, options.seconds * 1000)), interrupted]);
    clearInterval(progress);
    report = await traffic.stop();
    process.stdout.write(`${describe(report, Date.now() - started)}\n`);
    for (const failure of report.failures) process.stdout.write(`  failed: ${failure}\n`);
  } finally {
    await stack.close();
  }
  if (report.failed > 0) process.exitCode = 1;
}

/** E.g. "12.0 s: 2400 sent (200/s), 0 failed; answered by the champion 2160, the canary 240". */
function describe(report: Readonly<TrafficReport>, elapsedMs: number): string {
  const seconds = elapsedMs / 1000;
  return (
    `${seconds.toFixed(1)} s: ${report.sent} sent (${(report.sent / Math.max(seconds, 0.001)).toFixed(0)}/s), ${report.failed} failed; ` +
    `answered by the champion ${report.served.champion}, the canary ${report.served.canary}`
  );
}
