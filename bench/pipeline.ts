/**
 * bench:pipeline — times each stage of retrainingPipeline on one day of
 * flight-delay data and the orchestration overhead: pipeline wall time divided
 * by the sum of activity times, both read from the same run's history.
 * Each round uses a new model name, so every stage does real work.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadEnvironment } from '../lib/config/environment';
import { loadModelSpec } from '../lib/config/model-spec-file';
import { addDays } from '../lib/data/partition-day';
import { createS3Client } from '../lib/clients/s3-client';
import { startInProcessStack } from '../cli/stack/in-process-stack';
import { prepareExampleData } from '../cli/commands/prep';
import { runRetrainingPipeline } from '../cli/runs/pipeline-starter';
import { installWorkerLogging } from '../worker/worker-logging';
import { renderTable } from '../cli/runs/version-table';
import { busyTimeMs, pipelineTimeline } from './activity-timeline';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DAY = process.env.BENCH_DAY ?? '2001-01-09';

const stageOf: Record<string, string> = {
  recordPipelineStart: 'bookkeeping',
  recordPipelineFinish: 'bookkeeping',
  ingestPartition: 'ingest + validate',
  registerDatasets: 'register datasets',
  assessTrainingContext: 'training context',
  trainModel: 'train',
  evaluateOffline: 'evaluate',
  applyPromotionDecision: 'promote',
};

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  installWorkerLogging('ERROR');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'retrain-bench-'));
  await chmod(dataDir, 0o711); // Postgres runs as an unprivileged user that must enter it.
  const env = loadEnvironment({ ...process.env, RETRAIN_DATA_DIR: dataDir });
  const running = await startInProcessStack(env, () => undefined);
  try {
    const example = loadModelSpec(path.join(__dirname, '..', 'examples', 'flight-delay', 'model.json'));
    const s3 = createS3Client(running.stack.s3);
    await prepareExampleData(example, { from: addDays(DAY, -example.training.windowPartitions), to: DAY }, { client: s3, bucket: running.stack.s3.bucket });
    s3.destroy();

    const rows: string[][] = [];
    const ratios: number[] = [];
    const busyRatios: number[] = [];
    await running.runWorkersUntil(
      (async () => {
        for (let round = 1; round <= ROUNDS; round++) {
          const spec = { ...example, name: `flight-delay-bench-${Date.now().toString(36)}` };
          const result = await runRetrainingPipeline(running.client, { spec, day: DAY, taskQueue: env.taskQueue });
          const history = await running.client.workflow.getHandle(result.workflowId).fetchHistory();
          const timeline = pipelineTimeline(history);
          const wall = timeline.workflowEndMs - timeline.workflowStartMs;
          const sum = timeline.activities.reduce((t, a) => t + (a.endMs - a.startMs), 0);
          const busy = busyTimeMs(timeline.activities);
          const byStage = new Map<string, number>();
          for (const a of timeline.activities) {
            const stage = stageOf[a.activityType] ?? a.activityType;
            byStage.set(stage, (byStage.get(stage) ?? 0) + (a.endMs - a.startMs));
          }
          ratios.push(wall / sum);
          busyRatios.push(wall / busy);
          const stages = [...new Set(Object.values(stageOf))];
          if (round === 1) rows.push(['round', ...stages.map((s) => `${s} ms`), 'activities sum ms', 'busy ms', 'wall ms', 'wall/sum', 'wall/busy']);
          rows.push([
            String(round),
            ...stages.map((s) => (byStage.get(s) ?? 0).toFixed(0)),
            sum.toFixed(0),
            busy.toFixed(0),
            wall.toFixed(0),
            (wall / sum).toFixed(3),
            (wall / busy).toFixed(3),
          ]);
        }
      })(),
    );
    const [header, ...body] = rows;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    process.stdout.write(`\nretrainingPipeline, one held-out day (${DAY}) + ${example.training.windowPartitions}-day window, ${ROUNDS} rounds\n`);
    process.stdout.write(`(ingest runs its partitions in parallel, so 'ingest + validate' sums overlapping activity time)\n\n`);
    process.stdout.write(`${renderTable(header!, body)}\n\n`);
    process.stdout.write(`orchestration overhead (median): wall / sum of activity times = ${median(ratios).toFixed(3)} (goal <= 1.10)\n`);
    process.stdout.write(`stricter, overlaps counted once:  wall / busy activity time  = ${median(busyRatios).toFixed(3)}\n`);
  } finally {
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
