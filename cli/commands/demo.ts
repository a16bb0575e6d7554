import type { RetrainEnvironment } from '../../lib/config/environment';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { addDays } from '../../lib/data/partition-day';
import { createS3Client } from '../../lib/clients/s3-client';
import type { RetrainingPipelineResult } from '../../workflows/definitions';
import { startInProcessStack } from '../stack/in-process-stack';
import { runRetrainingPipeline } from '../runs/pipeline-starter';
import { renderPipelineResults } from '../runs/version-table';
import { prepareExampleData } from './prep';

export interface DemoOptions {
  specFile: string;
  /** The first day to retrain for; the demo runs it and the day after. */
  firstDay: string;
  keepRunning: boolean;
}

/**
 * `retrain demo`: starts the embedded stack, prepares the flight-delay data,
 * runs the pipeline for two consecutive days (the first creates the champion,
 * the second trains a challenger against it) and prints what happened.
 */
export async function demoCommand(env: RetrainEnvironment, options: DemoOptions): Promise<void> {
  const started = performance.now();
  const log = (msg: string) => process.stderr.write(`[retrain] ${msg}\n`);
  const spec = loadModelSpec(options.specFile);
  const days = [options.firstDay, addDays(options.firstDay, 1)];
  const running = await startInProcessStack(env, log);
  try {
    const { stack, client } = running;
    const from = addDays(days[0]!, -spec.training.windowPartitions);
    log(`preparing ${spec.name} partitions ${from}..${days[1]} from vega-datasets flights-3m.parquet`);
    const s3Client = createS3Client(stack.s3);
    try {
      await prepareExampleData(spec, { from, to: days[1]! }, { client: s3Client, bucket: stack.s3.bucket });
    } finally {
      s3Client.destroy();
    }

    const results = await running.runWorkersUntil(
      (async () => {
        const done: RetrainingPipelineResult[] = [];
        for (const day of days) {
          log(`running retrainingPipeline for ${spec.name} on ${day}`);
          done.push(await runRetrainingPipeline(client, { spec, day, taskQueue: env.taskQueue }));
        }
        return done;
      })(),
    );

    const query = encodeURIComponent(`RetrainModel="${spec.name}"`);
    process.stdout.write(
      [
        '',
        renderPipelineResults(results),
        '',
        ...results.flatMap((r) => (r.evaluation.report ? [`Evaluation report for ${r.day} (v${r.version.version}): ${r.evaluation.report.url}`] : [])),
        `Runs in the Temporal UI: ${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows?query=${query}`,
        options.keepRunning
          ? 'The stack keeps running: press Ctrl-C to stop it.'
          : 'The stack stops now; `npm run retrain -- up` brings it (and these runs) back at the same address when the ports are free.',
        `Finished in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
        '',
      ].join('\n'),
    );
    if (options.keepRunning) {
      await running.runWorkersUntil(
        new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        }),
      );
    }
  } finally {
    await running.close();
  }
}
