import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { quotedString } from '@duckdb/node-api';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActivityDeps } from '../../activities';
import { failPermanentlyOn } from '../../activities/permanent-failure';
import { queryRows, withDuckDB } from '../../lib/data/duckdb';
import { countDatasets } from '../../lib/db/repositories/datasets';
import { upsertModel } from '../../lib/db/repositories/models';
import { registerDatasets, snapshotPartition, summarizeDatasets, type PartitionSnapshot } from '../../lib/ingestion/partition-ingestion';
import type { ModelSpec, SourceSpec } from '../../lib/spec/model-spec';
import { createActivityClients } from '../../worker/activity-clients';
import { caseFormat, caseSpec, loadCorpus, writeCaseFiles, type CorpusCase } from '../fixtures/bad-data/corpus';
import { createEmptyDatabase } from '../fixtures/test-database';

// Every case of test/fixtures/bad-data/manifest.json through the real ingestion path: the
// case's partition and a good day before it are snapshotted as a run would (concurrently,
// through the activities' permanent-failure wrapper), then registered only if both succeeded.
// A refused case must leave nothing registered and no snapshot under its partition's key
// prefix; the good day's snapshot may remain as an unregistered, content-addressed orphan,
// by design (the next run of the same content reuses it).

const corpus = loadCorpus();
const GOOD_DAY = '2001-01-07';

/** Activity dependencies on a database of their own and a scratch folder, for one describe block. */
function useActivityDeps(prefix: string): { readonly deps: ActivityDeps; readonly root: string; readonly run: string } {
  const services = inject('services');
  const run = randomBytes(3).toString('hex');
  let clients: Awaited<ReturnType<typeof createActivityClients>> | undefined;
  let root = '';
  beforeAll(async () => {
    const { db: empty, url } = await createEmptyDatabase(services.databaseUrl, `retrain_${prefix.replaceAll('-', '_')}`, 1);
    await empty.destroy();
    root = await mkdtemp(path.join(services.workDir, `${prefix}-${run}-`));
    clients = await createActivityClients({ databaseUrl: url, s3: services.s3, workDir: path.join(root, 'work') });
  });
  afterAll(async () => {
    await clients?.close();
  });
  return {
    get deps() {
      if (!clients) throw new Error('activity deps are ready only inside tests');
      return clients.deps;
    },
    get root() {
      return root;
    },
    run,
  };
}

describe('the bad-data corpus through snapshotPartition and registerDatasets (Postgres, S3)', () => {
  const context = useActivityDeps('bad-data');

  /** Keys of the store's bucket under `prefix` (the store and S3 sources share the client and bucket here). */
  async function storedKeys(prefix: string): Promise<string[]> {
    const listed = await context.deps.sourceS3.client.send(new ListObjectsV2Command({ Bucket: context.deps.store.bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  /** Writes the case and a good day into a local folder, and uploads them for an S3 case; returns the spec reading them. */
  async function prepare(c: CorpusCase): Promise<ModelSpec> {
    const local = path.join(context.root, 'sources', c.id);
    await writeCaseFiles(corpus, c, local);
    const good: CorpusCase = { ...c, files: [{ name: `part-0.${caseFormat(corpus, c)}`, sql: '$GOOD' }] };
    await writeCaseFiles({ ...corpus, day: GOOD_DAY, good: corpus.good.split(corpus.day).join(GOOD_DAY) }, good, local);
    let source: SourceSpec = { kind: 'local', path: local, format: 'parquet' };
    if (c.source === 's3') {
      const prefix = `sources/bad-data-${context.run}/${c.id}/`;
      for (const folder of await readdir(local)) {
        for (const name of await readdir(path.join(local, folder))) {
          const body = await readFile(path.join(local, folder, name));
          await context.deps.sourceS3.client.send(new PutObjectCommand({ Bucket: context.deps.sourceS3.bucket, Key: `${prefix}${folder}/${name}`, Body: body }));
        }
      }
      source = { kind: 's3', prefix, format: 'parquet' };
    }
    const spec = caseSpec(corpus, c, source);
    // A run records its model first (recordPipelineStart); datasets refer to it.
    await upsertModel(context.deps.db, spec, `bad-data-${context.run}`);
    return spec;
  }

  it.each(corpus.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const spec = await prepare(c);
    const ingest = (day: string) => failPermanentlyOn(() => snapshotPartition(context.deps, { spec, day }));
    const [good, bad] = await Promise.allSettled([ingest(GOOD_DAY), ingest(corpus.day)]);
    expect(good.status, good.status === 'rejected' ? String(good.reason) : '').toBe('fulfilled');

    if ('error' in c.expect) {
      expect(bad.status).toBe('rejected');
      const failure = (bad as PromiseRejectedResult).reason as ApplicationFailure;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: c.expect.error, nonRetryable: true });
      expect(failure.message).toMatch(new RegExp(c.expect.message));
      expect(failure.message).not.toContain(context.root);
      // The workflow registers a run's datasets only after every partition was ingested: nothing here.
      expect(await countDatasets(context.deps.db, spec.name)).toBe(0);
      expect(await storedKeys(`datasets/${spec.name}/${corpus.day}/`)).toEqual([]);
      // The good day's snapshot was written before the run failed: an orphan, never registered.
      expect(await storedKeys(`datasets/${spec.name}/${GOOD_DAY}/`)).toEqual([(good as PromiseFulfilledResult<PartitionSnapshot>).value.snapshotKey]);
      return;
    }

    expect(bad.status, bad.status === 'rejected' ? String(bad.reason) : '').toBe('fulfilled');
    const snapshots = [(good as PromiseFulfilledResult<PartitionSnapshot>).value, (bad as PromiseFulfilledResult<PartitionSnapshot>).value];
    const summaries = summarizeDatasets(snapshots, await registerDatasets(context.deps.db, { model: spec.name, snapshots, workflowId: `bad-data-${context.run}` }));
    expect(summaries[1]).toMatchObject({ day: corpus.day, reused: false, ...c.expect.accepted });
    const row = await context.deps.db.selectFrom('datasets').select(['column_stats', 'snapshot_key', 'snapshot_sha256']).where('id', '=', summaries[1]!.id).executeTakeFirstOrThrow();
    expect(row.column_stats).toMatchObject({ sourceRows: c.expect.accepted.rowCount + c.expect.accepted.droppedRows, duplicateRows: c.expect.accepted.duplicateRows, droppedRows: c.expect.accepted.droppedRows });
    // The stored snapshot holds what the summary says, duplicates dropped or not.
    const file = path.join(context.root, 'check', c.id, 'snapshot.parquet');
    await context.deps.store.downloadToFile({ key: row.snapshot_key, sha256: row.snapshot_sha256 }, file);
    const [counts] = await withDuckDB((connection) => queryRows(connection, `SELECT count(*) AS n, count(DISTINCT row(date, delay, origin, score)) AS d FROM (SELECT * FROM read_parquet(${quotedString(file)}))`));
    expect(Number(counts!.n)).toBe(c.expect.accepted.rowCount);
    expect(Number(counts!.n) - Number(counts!.d)).toBe(c.expect.accepted.duplicateRows - c.expect.accepted.droppedRows);
  });
});

describe('datasets and the rules they were made under', () => {
  const context = useActivityDeps('dataset-rules');

  const ingestAndRegister = async (spec: ModelSpec) => {
    await upsertModel(context.deps.db, spec, `rules-${context.run}`);
    const snapshot = await snapshotPartition(context.deps, { spec, day: corpus.day });
    const [summary] = summarizeDatasets([snapshot], await registerDatasets(context.deps.db, { model: spec.name, snapshots: [snapshot], workflowId: `rules-${context.run}` }));
    return summary!;
  };

  it('keeps and drops duplicates as two datasets of the same source, and re-validates a source registered under looser rules', async () => {
    const c = corpus.cases.find((x) => x.id === 'duplicates-kept')!;
    const dir = path.join(context.root, 'duplicates');
    await writeCaseFiles(corpus, c, dir);
    const keep = { ...caseSpec(corpus, c, { kind: 'local', path: dir, format: 'parquet' }), name: 'rules-duplicates' };
    const drop: ModelSpec = { ...keep, schema: { ...keep.schema, duplicates: 'drop' } };

    const kept = await ingestAndRegister(keep);
    const dropped = await ingestAndRegister(drop);
    expect([kept.rowCount, dropped.rowCount]).toEqual([203, 200]);
    expect(dropped.id).not.toBe(kept.id);
    expect((await ingestAndRegister(keep)).id).toBe(kept.id);
    expect(await countDatasets(context.deps.db, keep.name)).toBe(2);

    const refuse: ModelSpec = { ...keep, schema: { ...keep.schema, duplicates: 'refuse' } };
    await expect(snapshotPartition(context.deps, { spec: refuse, day: corpus.day })).rejects.toMatchObject({ type: 'SchemaValidation', message: expect.stringMatching(/3 rows repeat another row/) });
  });

  it('refuses NaN in a source registered while allowNonFinite was set, once the spec no longer allows it', async () => {
    const c = corpus.cases.find((x) => x.id === 'nan-allowed')!;
    const dir = path.join(context.root, 'nan');
    await writeCaseFiles(corpus, c, dir);
    const allowing = { ...caseSpec(corpus, c, { kind: 'local', path: dir, format: 'parquet' }), name: 'rules-nan' };
    await ingestAndRegister(allowing);
    const strict: ModelSpec = { ...allowing, schema: { ...allowing.schema, columns: allowing.schema.columns.map(({ allowNonFinite: _allowed, ...column }) => column) } };
    await expect(snapshotPartition(context.deps, { spec: strict, day: corpus.day })).rejects.toMatchObject({ type: 'SchemaValidation', message: expect.stringMatching(/column 'score' has 3 non-finite values in part-0\.parquet/) });
  });
});
