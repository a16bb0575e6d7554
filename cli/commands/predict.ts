import path from 'node:path';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { parsePartitionDay } from '../../lib/data/partition-day';
import { findLatestDatasetForDay } from '../../lib/db/repositories/datasets';
import { findChampion, findVersionByNumber } from '../../lib/db/repositories/model-versions';
import { scoreDatasetSnapshot } from '../../lib/scoring/batch-inference';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { connectToStack } from '../stack/stack-client';

/**
 * `retrain predict`: batch inference. Scores the snapshot of one day with a
 * model version (the champion by default) and stores the predictions as Parquet.
 */
export async function predictCommand(env: RetrainEnvironment, options: { model: string; day: string; version?: number }): Promise<void> {
  const day = parsePartitionDay(options.day, '--day');
  const stack = await connectToStack(env);
  try {
    const version =
      options.version === undefined ? await findChampion(stack.db, options.model) : await findVersionByNumber(stack.db, options.model, options.version);
    if (!version) {
      throw new Error(options.version === undefined ? `model '${options.model}' has no champion; pass --version` : `model '${options.model}' has no version ${options.version}`);
    }
    const dataset = await findLatestDatasetForDay(stack.db, options.model, day);
    if (!dataset) throw new Error(`no snapshot of ${options.model} for ${day}: run the pipeline for a window that includes it first`);
    const store = new ArtifactStore({ client: stack.s3, bucket: stack.connection.s3.bucket });
    const result = await scoreDatasetSnapshot({ db: stack.db, store, workDir: path.join(env.dataDir, 'work') }, { modelVersionId: version.id, datasetId: dataset.id });
    process.stdout.write(
      `${result.reused ? 'already scored' : 'scored'} ${result.rowCount} rows of ${day} with ${result.model} v${result.modelVersion}\n` +
        `predictions: s3://${stack.connection.s3.bucket}/${result.outputKey} (sha256 ${result.outputSha256})\n`,
    );
  } finally {
    await stack.close();
  }
}
