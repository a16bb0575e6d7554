import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { activitiesByQueue, type ActivityDeps, type ActivityObservation } from '../../activities';
import { observeActivities } from '../../activities/activity-observer';
import { withPermanentFailures } from '../../activities/permanent-failure';
import { ModelVersionNotFoundError } from '../../lib/db/not-found-errors';
import { ALL_QUEUE_KINDS } from '../../worker/retrain-workers';

// The factories only close over their clients; nothing is called here, so no client is needed.
const deps = {} as ActivityDeps;
const namesOf = (kind: keyof typeof activitiesByQueue) => Object.keys(activitiesByQueue[kind](deps)).sort();

describe('activities per task queue (what each queue worker registers)', () => {
  it('gives each queue only the activities the workflows send to it', () => {
    expect(namesOf('control')).toEqual([
      'applyPromotionDecision', 'claimDriftRetraining', 'closeLabelBatch', 'completeCanary', 'countMirroredRequests', 'finishShadow', 'loadApproverPolicy', 'observeCanaryStage',
      'observeShadow', 'recordApprovalEvent', 'recordOfflineVerdict', 'recordPipelineFinish', 'recordPipelineStart', 'rejectCandidate', 'restoreChampion', 'rollbackCanary',
      'sendLabelBatch', 'sendNotification', 'setCanaryTraffic', 'startShadow', 'syncLabelBatch',
    ]);
    expect(namesOf('data')).toEqual(['ingestPartition', 'newestSourcePartitionDay', 'registerDatasets']);
    expect(namesOf('train')).toEqual(['assessTrainingContext', 'trainModel']);
    expect(namesOf('eval')).toEqual(['batchPredict', 'evaluateOffline', 'prepareLabelBatch', 'runDriftPass']);
  });

  it('a data worker cannot run training, and no activity is on two queues', () => {
    expect(namesOf('data')).not.toContain('trainModel');
    expect(namesOf('data')).not.toContain('assessTrainingContext');
    const all = ALL_QUEUE_KINDS.flatMap((kind) => namesOf(kind));
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('withPermanentFailures (applied to every activity)', () => {
  const failing = (err: unknown) => withPermanentFailures({ step: async (_input: { id: string }) => Promise.reject(err) }).step({ id: '1' });

  it('keeps results and arguments', async () => {
    const wrapped = withPermanentFailures({ double: async (x: number) => x * 2 });
    expect(await wrapped.double(21)).toBe(42);
  });

  it('turns a typed lib error into a non-retryable failure of its type', async () => {
    const err = await failing(new ModelVersionNotFoundError('42')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'ModelVersionNotFound', nonRetryable: true, message: 'model version 42 does not exist' });
  });

  it('turns a zod parse failure into InvalidActivityInput naming the field', async () => {
    const parseError = z.object({ versionId: z.string() }).safeParse({ versionId: 7 }).error;
    const err = await failing(parseError).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'InvalidActivityInput', nonRetryable: true, message: 'versionId: Invalid input: expected string, received number' });
  });

  it('turns values Postgres rejects into DatabaseRejectedInput, and leaves other database errors retryable', async () => {
    const rejected = Object.assign(new pg.DatabaseError('invalid input syntax for type bigint: "v2"', 0, 'error'), { code: '22P02' });
    expect(await failing(rejected).catch((e: unknown) => e)).toMatchObject({ type: 'DatabaseRejectedInput', nonRetryable: true, message: 'invalid input syntax for type bigint: "v2" (SQLSTATE 22P02)' });
    const unique = Object.assign(new pg.DatabaseError('duplicate key value', 0, 'error'), { code: '23505' });
    expect(await failing(unique).catch((e: unknown) => e)).toBe(unique);
    const shutdown = Object.assign(new pg.DatabaseError('terminating connection due to administrator command', 0, 'error'), { code: '57P01' });
    expect(await failing(shutdown).catch((e: unknown) => e)).toBe(shutdown);
  });

  it('passes other errors and Temporal failures (a cancellation) through untouched', async () => {
    const plain = new Error('connection reset');
    expect(await failing(plain).catch((e: unknown) => e)).toBe(plain);
    const cancelled = new CancelledFailure('cancelled');
    expect(await failing(cancelled).catch((e: unknown) => e)).toBe(cancelled);
    const own = ApplicationFailure.create({ type: 'SchemaValidation', message: 'kept as raised', nonRetryable: false });
    expect(await failing(own).catch((e: unknown) => e)).toBe(own);
  });
});

describe('observed activities (the worker metrics)', () => {
  /** An activity that succeeds (err null) or fails with `err`, wrapped as activities/index.ts wraps every activity. */
  const observed = (err: unknown) => {
    const seen: ActivityObservation[] = [];
    const wrapped = observeActivities('ingest', withPermanentFailures({ ingestPartition: async () => (err === null ? 'ok' : Promise.reject(err)) }), (o) => seen.push(o));
    return { seen, run: () => wrapped.ingestPartition().catch(() => undefined) };
  };

  it('reports each attempt with its stage, activity, duration and outcome, a permanent failure with its type', async () => {
    const done = observed(null);
    await done.run();
    expect(done.seen).toEqual([{ stage: 'ingest', activity: 'ingestPartition', seconds: expect.any(Number), outcome: 'completed', errorType: null }]);
    const permanent = observed(new ModelVersionNotFoundError('42'));
    await permanent.run();
    expect(permanent.seen[0]).toMatchObject({ outcome: 'failed', errorType: 'ModelVersionNotFound' });
    const retried = observed(new Error('connection reset'));
    await retried.run();
    expect(retried.seen[0]).toMatchObject({ outcome: 'failed', errorType: 'retryable' });
    const cancelled = observed(new CancelledFailure('cancelled'));
    await cancelled.run();
    expect(cancelled.seen[0]).toMatchObject({ outcome: 'cancelled', errorType: null });
  });

  it('keeps the activity names of every queue when observed', () => {
    for (const kind of ALL_QUEUE_KINDS) expect(Object.keys(activitiesByQueue[kind](deps, () => undefined)).sort()).toEqual(namesOf(kind));
  });
});
