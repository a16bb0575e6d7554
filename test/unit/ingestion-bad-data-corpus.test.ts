import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicateRuleOf } from '../../lib/spec/model-spec';
import { assertValidPartition, validatePartition } from '../../lib/ingestion/schema-validation';
import { writeSnapshot } from '../../lib/ingestion/snapshot-writer';
import { caseSpec, loadCorpus, writeCaseFiles } from '../fixtures/bad-data/corpus';

// Validation-level run of the bad-data corpus (test/fixtures/bad-data/manifest.json); the
// integration test runs the same cases through snapshotPartition and registerDatasets.
const corpus = loadCorpus();
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'retrain-bad-data-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the bad-data corpus, validated', () => {
  it.each(corpus.cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const dir = path.join(root, c.id);
    const files = await writeCaseFiles(corpus, c, dir);
    const spec = caseSpec(corpus, c, { kind: 'local', path: dir, format: 'parquet' });
    const subject = `partition date=${corpus.day} of ${spec.name}`;
    const rule = duplicateRuleOf(spec.schema);
    const outcome = await validatePartition(files, spec.source.format, spec.schema.columns, {
      partition: { column: spec.partition.column, day: corpus.day },
      duplicates: rule,
      fileNames: files.map((f) => path.basename(f)),
      subject,
    }).then(
      (report) => {
        assertValidPartition(report, subject);
        return report;
      },
      (err: unknown) => err,
    ).catch((err: unknown) => err);

    if ('error' in c.expect) {
      expect(outcome, 'expected an error').toBeInstanceOf(Error);
      expect(outcome).toMatchObject({ type: c.expect.error });
      expect((outcome as Error).message).toMatch(new RegExp(c.expect.message));
      // No local path leaks into the message: files are named as in their partition folder.
      expect((outcome as Error).message).not.toContain(root);
      return;
    }
    expect(outcome, String(outcome)).not.toBeInstanceOf(Error);
    const report = outcome as Awaited<ReturnType<typeof validatePartition>>;
    expect(report.duplicateRows).toBe(c.expect.accepted.duplicateRows);
    const out = path.join(dir, 'snapshot', 'snapshot.parquet');
    const { rowCount } = await writeSnapshot(files, spec.source.format, spec.schema.columns, out, { dropDuplicates: rule === 'drop' });
    expect(rowCount).toBe(c.expect.accepted.rowCount);
    expect(report.rowCount - rowCount).toBe(c.expect.accepted.droppedRows);
    expect(await readdir(path.dirname(out))).toEqual(['snapshot.parquet']);
  });
});
