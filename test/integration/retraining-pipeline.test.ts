import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { loadFeatureTable } from '../../lib/data/feature-table-loader';
import { FLIGHTS_PARQUET, prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import { countDatasets, getDataset } from '../../lib/db/repositories/datasets';
import { findChampion, listModelVersions } from '../../lib/db/repositories/model-versions';
import { listPipelineRuns } from '../../lib/db/repositories/pipeline-runs';
import { rocAuc } from '../../lib/stats/metrics';
import { loadOnnxScorer } from '../../lib/scoring/onnx-scorer';
import { retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';


async function sourceRowCount(day: string): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `select count(*)::integer as n from read_parquet('${FLIGHTS_PARQUET}') where date >= date '${day}' and date < date '${day}' + interval 1 day`,
    );
    return Number(reader.getRows()[0]?.[0]);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('retrainingPipeline on flight-delay data', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;

  const runPipeline = (input: RetrainingPipelineInput): Promise<RetrainingPipelineResult> => harness.runPipeline(input);

  beforeAll(async () => {
    harness = await createPipelineHarness('pipeline');
    spec = await flightDelayOnHarness(harness, { name: 'flight-delay', days: { from: '2001-01-02', to: '2001-01-10' } });
  });

  afterAll(async () => {
    await harness?.close();
  });

  let first: RetrainingPipelineResult;

  it('ingests every partition with its exact row count and trains a champion that scores the held-out day', async () => {
    first = await runPipeline({ spec, day: '2001-01-09' });

    expect(first.datasets.training.map((d) => d.day)).toEqual([
      '2001-01-02', '2001-01-03', '2001-01-04', '2001-01-05', '2001-01-06', '2001-01-07', '2001-01-08',
    ]);
    expect(first.datasets.holdout.day).toBe('2001-01-09');
    for (const dataset of [...first.datasets.training, first.datasets.holdout]) {
      expect(dataset.rowCount, dataset.day).toBe(await sourceRowCount(dataset.day));
      expect(dataset.reused).toBe(false);
    }

    expect(first.decision).toBe('promote');
    expect(first.version.version).toBe(1);
    expect(first.championVersion).toBe(1);
    const champion = await findChampion(harness.deps.db, spec.name);
    expect(champion?.id).toBe(first.version.id);

    // Independent check: the stored ONNX artifact (checksum verified) loads in onnxruntime-node and ranks the held-out day.
    const onnx = await harness.deps.store.getBytes({ key: first.version.artifactKey, sha256: first.version.artifactSha256 });
    const scorer = await loadOnnxScorer(onnx);
    const holdout = await getDataset(harness.deps.db, first.datasets.holdout.id);
    const holdoutFile = path.join(harness.deps.workDir, 'holdout-check.parquet');
    await harness.deps.store.downloadToFile({ key: holdout.snapshotKey, sha256: holdout.snapshotSha256 }, holdoutFile);
    const table = await loadFeatureTable([holdoutFile], spec);
    const auc = rocAuc(table.label!, await scorer.scorePositive(table));
    await scorer.release();
    expect(auc).toBeGreaterThan(0.6);
    expect(first.metrics.candidate.auc).toBeCloseTo(auc, 6);
    await harness.recordHistory(first.workflowId, 'retraining-pipeline-succeeded');
  });

  it('running the same day again creates no second dataset and no second version', async () => {
    const datasetsBefore = await countDatasets(harness.deps.db, spec.name);
    const again = await runPipeline({ spec, day: '2001-01-09' });

    expect(await countDatasets(harness.deps.db, spec.name)).toBe(datasetsBefore);
    expect(await listModelVersions(harness.deps.db, spec.name)).toHaveLength(1);
    expect(again.version.id).toBe(first.version.id);
    expect(again.version.reused).toBe(true);
    expect([...again.datasets.training, again.datasets.holdout].every((d) => d.reused)).toBe(true);
    expect(again.decision).toBe('unchanged');
    const runs = await listPipelineRuns(harness.deps.db, spec.name);
    expect(runs.filter((r) => r.status === 'succeeded')).toHaveLength(2);
  });

  it('the next day trains a challenger and compares it with the champion on the same holdout', async () => {
    const second = await runPipeline({ spec, day: '2001-01-10' });
    await harness.recordHistory(second.workflowId, 'retraining-pipeline-challenger');
    expect(second.version.version).toBe(2);
    // The example's policy fine-tunes the champion when nothing calls for a fresh start.
    expect(second.training).toMatchObject({ mode: 'fine_tune', baseVersion: 1 });
    expect(second.evaluation.deltas?.auc.low).toBeLessThanOrEqual(second.evaluation.deltas!.auc.delta);
    expect(second.evaluation.gates.length).toBeGreaterThan(1);
    // Its seven training partitions (01-03..01-09) were all snapshotted by the first day's run.
    expect(second.datasets.training.filter((d) => d.reused)).toHaveLength(7);
    expect(second.datasets.holdout.reused).toBe(false);
    expect(second.metrics.championVersion).toBe(1);
    expect(second.metrics.champion?.auc).toBeGreaterThan(0.5);
    expect(['promote', 'reject']).toContain(second.decision);
    expect(second.reason).toMatch(/champion v1/);
    const versions = await listModelVersions(harness.deps.db, spec.name);
    expect(versions.map((v) => v.stage).sort()).toEqual(second.decision === 'promote' ? ['archived', 'champion'] : ['champion', 'rejected']);
  });

  describe('invalid partitions', () => {
    async function expectSchemaFailure(badDay: string, rewrite: string, column: RegExp) {
      const dir = path.join(harness.deps.workDir, `bad-source-${badDay}`);
      await prepareFlightDelayPartitions({ from: '2001-01-03', to: '2001-01-10', target: { kind: 'local', dir } });
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      const file = path.join(dir, `date=${badDay}`, 'part-0.parquet');
      const original = await readFile(file);
      const copy = `${file}.orig`;
      await writeFile(copy, original);
      await connection.run(`copy (${rewrite.replace('$SRC', `read_parquet('${copy}')`)}) to '${file}' (format parquet)`);
      connection.closeSync();
      instance.closeSync();

      const badSpec: ModelSpec = { ...spec, name: `${spec.name}-bad-${badDay.slice(-2)}`, source: { kind: 'local', path: dir, format: 'parquet' } };
      const err = await runPipeline({ spec: badSpec, day: '2001-01-10' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const activityFailure = (err as WorkflowFailedError).cause;
      expect(activityFailure).toBeInstanceOf(ActivityFailure);
      const cause = (activityFailure as ActivityFailure).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('SchemaValidation');
      expect((cause as ApplicationFailure).nonRetryable).toBe(true);
      expect((cause as ApplicationFailure).message).toMatch(column);

      expect(await countDatasets(harness.deps.db, badSpec.name)).toBe(0);
      expect(await listModelVersions(harness.deps.db, badSpec.name)).toHaveLength(0);
      const runs = await listPipelineRuns(harness.deps.db, badSpec.name);
      expect(runs.map((r) => r.status)).toEqual(['failed']);
      expect(runs[0]?.error).toMatch(column);
      await harness.recordHistory(retrainingPipelineId(badSpec.name, '2001-01-10'), `retraining-pipeline-failed-${badDay}`);
    }

    it('a partition missing a column fails the run naming the column and registers nothing', async () => {
      await expectSchemaFailure('2001-01-05', 'select date, delay, origin, destination from $SRC', /'distance'/);
    });

    it('a partition with a wrongly typed column fails the run naming the column and registers nothing', async () => {
      await expectSchemaFailure('2001-01-06', 'select date, cast(delay as varchar) as delay, distance, origin, destination from $SRC', /'delay'.*VARCHAR/);
    });

    it('rows of the held-out day inside a training partition fail the run non-retryably within seconds, naming the file, and register nothing', async () => {
      // 312 flights of 2001-01-09, the day a run on 2001-01-09 holds out, appended to the 2001-01-08 partition.
      const dir = path.join(harness.deps.workDir, 'held-out-leak');
      await prepareFlightDelayPartitions({ from: '2001-01-02', to: '2001-01-09', target: { kind: 'local', dir } });
      const file = path.join(dir, 'date=2001-01-08', 'part-0.parquet');
      const original = `${file}.orig`;
      await writeFile(original, await readFile(file));
      const holdout = path.join(dir, 'date=2001-01-09', 'part-0.parquet');
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      await connection.run(
        `copy (select * from read_parquet('${original}') union all (select * from read_parquet('${holdout}') order by all limit 312)) to '${file}' (format parquet)`,
      );
      connection.closeSync();
      instance.closeSync();

      const leakSpec: ModelSpec = { ...spec, name: `${spec.name}-leak`, source: { kind: 'local', path: dir, format: 'parquet' } };
      const started = Date.now();
      const err = await runPipeline({ spec: leakSpec, day: '2001-01-09' }).catch((e: unknown) => e);
      const elapsedMs = Date.now() - started;

      expect(err).toBeInstanceOf(WorkflowFailedError);
      const activityFailure = (err as WorkflowFailedError).cause as ActivityFailure;
      expect(activityFailure).toBeInstanceOf(ActivityFailure);
      expect(activityFailure.activityType).toBe('ingestPartition');
      // Not retried: the first attempt's failure is the run's.
      expect(activityFailure.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
      const cause = activityFailure.cause as ApplicationFailure;
      expect(cause).toMatchObject({ type: 'SchemaValidation', nonRetryable: true });
      expect(cause.message).toMatch(
        new RegExp(`^partition date=2001-01-08 of ${leakSpec.name} is invalid: 312 rows of part-0\\.parquet have date outside 2001-01-08, e\\.g\\. 2001-01-09T\\d\\d:\\d\\d:\\d\\d`),
      );
      // Worker start-up included: a retried attempt alone would wait at least 1 s and 5 attempts ~15 s.
      expect(elapsedMs).toBeLessThan(15_000);
      console.info(`held-out rows in a training partition: the run failed after ${elapsedMs} ms`);

      expect(await countDatasets(harness.deps.db, leakSpec.name)).toBe(0);
      expect(await listModelVersions(harness.deps.db, leakSpec.name)).toHaveLength(0);
      const runs = await listPipelineRuns(harness.deps.db, leakSpec.name);
      expect(runs.map((r) => r.status)).toEqual(['failed']);
      expect(runs[0]?.error).toMatch(/SchemaValidation: .*312 rows of part-0\.parquet have date outside 2001-01-08/);
      const listed = await harness.deps.sourceS3.client.send(new ListObjectsV2Command({ Bucket: harness.deps.store.bucket, Prefix: `datasets/${leakSpec.name}/2001-01-08/` }));
      expect(listed.Contents ?? []).toEqual([]);
    });
  });
});
