import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PredictionLog } from '../../gateway/prediction-log';
import { GatewayRequestError } from '../../gateway/request-error';
import type { PredictionLogEntry } from '../../lib/db/repositories/predictions';

const log = pino({ level: 'silent' });

function rows(n: number, from = 0): PredictionLogEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    model: 'm',
    requestId: `r${from + i}`,
    routingKey: null,
    modelVersionId: '1',
    role: 'champion' as const,
    features: { x: from + i },
    probability: 0.5,
    predictedLabel: 1,
    latencyMs: 0.1,
    scoredAlone: true,
    error: null,
    createdAt: new Date(),
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A writer that records batches and can be made to fail or stall. */
function recordingWriter() {
  const batches: string[][] = [];
  let failNext = 0;
  let gate: Promise<void> | null = null;
  return {
    batches,
    written: () => batches.flat(),
    failTimes(n: number) {
      failNext = n;
    },
    stall() {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = null;
        open();
      };
    },
    async write(batch: PredictionLogEntry[]) {
      if (gate) await gate;
      if (failNext > 0) {
        failNext--;
        throw Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' });
      }
      const invalid = batch.find((r) => r.requestId === 'bad');
      if (invalid) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
      batches.push(batch.map((r) => r.requestId));
    },
  };
}

describe('PredictionLog', () => {
  it('writes queued rows in one batch after the flush interval', async () => {
    const writer = recordingWriter();
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 20 });
    expect(predictionLog.append(rows(3))).toBeUndefined();
    expect(predictionLog.append(rows(2, 3))).toBeUndefined();
    expect(writer.batches).toEqual([]);
    await sleep(60);
    expect(writer.batches).toEqual([['r0', 'r1', 'r2', 'r3', 'r4']]);
    expect(predictionLog.size).toBe(0);
  });

  it('starts a write as soon as maxBatch rows wait, and writes at most maxRowsPerWrite rows per insert', async () => {
    const writer = recordingWriter();
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 10_000, maxBatch: 4, maxRowsPerWrite: 6 });
    expect(predictionLog.append(rows(3))).toBeUndefined();
    await sleep(20);
    expect(writer.batches).toEqual([]);
    expect(predictionLog.append(rows(7, 3))).toBeUndefined();
    await sleep(20);
    expect(writer.batches.map((b) => b.length)).toEqual([6, 4]);
    await predictionLog.close();
    expect(writer.written()).toEqual(rows(10).map((r) => r.requestId));
  });

  it('makes appenders wait when full, admits them in order as rows are written, and loses nothing', async () => {
    const writer = recordingWriter();
    const open = writer.stall();
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 1, maxBatch: 5, capacity: 10 });
    expect(predictionLog.append(rows(10))).toBeUndefined();
    const waiting = predictionLog.append(rows(3, 10));
    expect(waiting).toBeInstanceOf(Promise);
    const settled = settledState(waiting!);
    await sleep(20);
    expect(settled.done).toBe(false);
    expect(predictionLog.size).toBe(13);
    open();
    await waiting;
    await predictionLog.close();
    expect(writer.written()).toEqual(rows(13).map((r) => r.requestId));
  });

  it('refuses with a 503 naming the cause when no room frees up in time', async () => {
    const writer = recordingWriter();
    const open = writer.stall();
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 1, maxBatch: 5, capacity: 5, waitTimeoutMs: 30 });
    expect(predictionLog.append(rows(5))).toBeUndefined();
    const err = await predictionLog.append(rows(1, 5))!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayRequestError);
    expect(err).toMatchObject({ statusCode: 503, code: 'overloaded', retryAfterSeconds: 5 });
    expect((err as Error).message).toMatch(/prediction log is full/);
    open();
    await predictionLog.close();
    expect(writer.written()).toHaveLength(5);
  });

  it('retries a transient write failure with the same rows, keeping their order', async () => {
    const writer = recordingWriter();
    writer.failTimes(2);
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 1 });
    expect(predictionLog.append(rows(3))).toBeUndefined();
    await sleep(30);
    expect(predictionLog.append(rows(2, 3))).toBeUndefined();
    await predictionLog.flush();
    expect(writer.written()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('drops only the rows Postgres refuses as invalid, and reports them', async () => {
    const writer = recordingWriter();
    const dropped: number[] = [];
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 1, onDropped: (n) => dropped.push(n) });
    const batch = rows(7);
    batch[4] = { ...batch[4]!, requestId: 'bad' };
    expect(predictionLog.append(batch)).toBeUndefined();
    await predictionLog.flush();
    expect(writer.written().sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r5', 'r6']);
    expect(dropped).toEqual([1]);
  });

  it('does not write again a batch whose failed write was committed after all, and writes one that was not', async () => {
    const stored = new Set<string>();
    let loseAnswer = 1;
    let failBeforeCommit = 0;
    const write = async (batch: PredictionLogEntry[]) => {
      if (failBeforeCommit > 0) {
        failBeforeCommit--;
        throw Object.assign(new Error('connection terminated before commit'), { code: 'ECONNRESET' });
      }
      for (const r of batch) {
        if (stored.has(r.requestId)) throw new Error(`${r.requestId} written twice`);
        stored.add(r.requestId);
      }
      if (loseAnswer > 0) {
        loseAnswer--;
        throw Object.assign(new Error('connection terminated after commit'), { code: 'ECONNRESET' });
      }
    };
    const asked: number[] = [];
    const predictionLog = new PredictionLog<PredictionLogEntry>({
      write,
      isStored: async (batch) => {
        asked.push(batch.length);
        return stored.has(batch[0]!.requestId);
      },
      log,
      flushIntervalMs: 1,
    });
    expect(predictionLog.append(rows(3))).toBeUndefined();
    await predictionLog.flush();
    expect([...stored]).toEqual(['r0', 'r1', 'r2']);
    expect(asked).toEqual([3]);
    expect(predictionLog.settled).toBe(3);
    failBeforeCommit = 1;
    expect(predictionLog.append(rows(2, 3))).toBeUndefined();
    await predictionLog.flush();
    expect([...stored]).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(asked).toEqual([3, 2]);
    expect({ appended: predictionLog.appended, settled: predictionLog.settled }).toEqual({ appended: 5, settled: 5 });
  });

  it('keeps the rows isolated so far when a transient failure interrupts the isolation of an invalid row', async () => {
    const writer = recordingWriter();
    const batch = rows(8);
    batch[6] = { ...batch[6]!, requestId: 'bad' };
    let calls = 0;
    const predictionLog = new PredictionLog<PredictionLogEntry>({
      write: async (b) => {
        // The third write (the second half, after the first half was written) loses its connection once.
        if (++calls === 3) throw Object.assign(new Error('connection terminated'), { code: 'ECONNRESET' });
        return writer.write(b);
      },
      isStored: async () => false,
      log,
      flushIntervalMs: 1,
    });
    expect(predictionLog.append(batch)).toBeUndefined();
    await predictionLog.flush();
    expect(writer.written()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r7']);
    expect(predictionLog.settled).toBe(8);
  });

  it('writes everything on close and refuses rows afterwards', async () => {
    const writer = recordingWriter();
    const predictionLog = new PredictionLog<PredictionLogEntry>({ write: (b) => writer.write(b), log, flushIntervalMs: 10_000 });
    expect(predictionLog.append(rows(3))).toBeUndefined();
    await predictionLog.close();
    expect(writer.written()).toEqual(['r0', 'r1', 'r2']);
    await expect(predictionLog.append(rows(1))).rejects.toMatchObject({ statusCode: 503, code: 'shutting_down' });
  });
});

function settledState(promise: Promise<unknown>): { done: boolean } {
  const state = { done: false };
  void promise.finally(() => (state.done = true));
  return state;
}
