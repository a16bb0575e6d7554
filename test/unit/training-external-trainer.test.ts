import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExternalTrainerSpec, type FeatureSpec } from '../../lib/spec/model-spec';
import { runExternalTrainer, type ExternalTrainerHeartbeat, type ExternalTrainerOptions } from '../../lib/training/external-trainer';
import type { ExternalTrainerContract } from '../../lib/training/external-trainer-contract';

const features: FeatureSpec[] = [
  { name: 'x', kind: 'numeric' },
  { name: 'c', kind: 'categorical', maxCategories: 10 },
];

/** Whether a pid runs, read from /proc so that an unreaped zombie counts as gone. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('runExternalTrainer', () => {
  let root: string;
  let run = 0;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'retrain-external-trainer-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Runs `command` as a trainer in a fresh directory; the training data path is never read by these trainers. */
  function runTrainer(command: string[], overrides: Partial<ExternalTrainerOptions> & { spec?: Partial<ExternalTrainerSpec> } = {}) {
    const { spec, ...rest } = overrides;
    const heartbeats: ExternalTrainerHeartbeat[] = [];
    const workDir = path.join(root, `run-${++run}`);
    const promise = runExternalTrainer({
      trainer: ExternalTrainerSpec.parse({ kind: 'external', command, ...spec }),
      workDir,
      contract: { model: 'tiny', mode: 'from_scratch', trainingData: path.join(root, 'absent.parquet'), features, label: 'label', warmStartModel: null, seed: 7 },
      heartbeat: (details) => heartbeats.push(details),
      heartbeatIntervalMs: 100,
      killGraceMs: 2000,
      ...rest,
    });
    return { promise, heartbeats, workDir };
  }

  const node = (script: string) => [process.execPath, '-e', script];
  const sh = (script: string) => ['sh', '-c', script];

  it('fails with ExternalTrainerFailed naming the exit code and the end of stderr', async () => {
    const { promise } = runTrainer(sh('echo "loading data" >&2; echo "ValueError: no rows with label 1" >&2; exit 3'));
    const err = await promise.catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'ExternalTrainerFailed', exitCode: 3 });
    expect((err as Error).message).toMatch(/exited with code 3; stderr ends with:\nloading data\nValueError: no rows with label 1$/);
  });

  it('says so when the program was killed by a signal', async () => {
    const { promise } = runTrainer(sh('kill -KILL $$'));
    const err = await promise.catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'ExternalTrainerFailed', exitCode: null, exitSignal: 'SIGKILL' });
    expect((err as Error).message).toMatch(/was killed by SIGKILL and wrote nothing to stderr/);
  });

  it('fails with ExternalTrainerFailed when the command cannot be started', async () => {
    const { promise } = runTrainer(['/nonexistent/trainer-binary']);
    await expect(promise).rejects.toMatchObject({ type: 'ExternalTrainerFailed', message: expect.stringMatching(/could not be started: .*ENOENT/) });
  });

  it('fails with InvalidTrainerOutput when the program exits 0 without writing model.onnx', async () => {
    const { promise, workDir } = runTrainer(node(`require('fs').writeFileSync(process.env.RETRAIN_METRICS_OUTPUT, '{}')`));
    const err = await promise.catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'InvalidTrainerOutput' });
    expect((err as Error).message).toContain(`wrote no model file at ${path.join(workDir, 'output', 'model.onnx')}`);
  });

  it('fails with InvalidTrainerOutput when model.onnx is not a model onnxruntime can load', async () => {
    const { promise } = runTrainer(
      node(`const fs = require('fs'); fs.writeFileSync(process.env.RETRAIN_MODEL_OUTPUT, 'not onnx'); fs.writeFileSync(process.env.RETRAIN_METRICS_OUTPUT, '{}')`),
    );
    await expect(promise).rejects.toMatchObject({ type: 'InvalidTrainerOutput', message: expect.stringMatching(/model\.onnx cannot be used by onnxruntime: /) });
  });

  it('passes the contract as a JSON file and environment variables, and withholds the worker credentials', async () => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://secret@db/retrain';
    try {
      const { promise, workDir } = runTrainer(
        // Records what it saw, then fails on purpose: the run stops before any output check.
        node(`require('fs').writeFileSync('seen.json', JSON.stringify({ env: process.env, cwd: process.cwd() })); process.exit(9)`),
        { spec: { hyperparameters: { C: 0.5 }, env: { EXTRA: 'yes', RETRAIN_MODE: 'spoofed' } } },
      );
      await expect(promise).rejects.toMatchObject({ exitCode: 9 });
      const seen = JSON.parse(await readFile(path.join(workDir, 'seen.json'), 'utf8')) as { env: Record<string, string>; cwd: string };
      expect(seen.cwd).toBe(workDir);
      expect(seen.env.DATABASE_URL).toBeUndefined();
      expect(seen.env.EXTRA).toBe('yes');
      expect(seen.env).toMatchObject({
        RETRAIN_CONTRACT: path.join(workDir, 'contract.json'),
        RETRAIN_CONTRACT_VERSION: '1',
        RETRAIN_MODE: 'from_scratch',
        RETRAIN_OUTPUT_DIR: path.join(workDir, 'output'),
        RETRAIN_MODEL_OUTPUT: path.join(workDir, 'output', 'model.onnx'),
        RETRAIN_METRICS_OUTPUT: path.join(workDir, 'output', 'metrics.json'),
        RETRAIN_WARM_START_MODEL: '',
        RETRAIN_SEED: '7',
      });
      const contract = JSON.parse(await readFile(seen.env.RETRAIN_CONTRACT!, 'utf8')) as ExternalTrainerContract;
      expect(contract).toEqual({
        contractVersion: 1,
        model: 'tiny',
        mode: 'from_scratch',
        trainingData: path.join(root, 'absent.parquet'),
        features: [
          { name: 'x', kind: 'numeric' },
          { name: 'c', kind: 'categorical', maxCategories: 10 },
        ],
        label: 'label',
        output: { dir: path.join(workDir, 'output'), model: path.join(workDir, 'output', 'model.onnx'), metrics: path.join(workDir, 'output', 'metrics.json') },
        hyperparameters: { C: 0.5 },
        warmStartModel: null,
        seed: 7,
      });
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });

  it('heartbeats while the program runs with elapsed time, output bytes and the last stderr line', async () => {
    const { promise, heartbeats } = runTrainer(sh('echo "epoch 1" >&2; echo "to stdout"; sleep 0.3; echo "epoch 2" >&2; sleep 0.3; exit 1'));
    await promise.catch(() => {});
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(heartbeats.every((h) => h.phase === 'external-trainer' && h.pid > 0)).toBe(true);
    // The last one is sent when the program has exited.
    const last = heartbeats.at(-1)!;
    expect(last).toMatchObject({ stdoutBytes: 'to stdout\n'.length, stderrBytes: 'epoch 1\nepoch 2\n'.length, lastStderrLine: 'epoch 2' });
    const elapsed = heartbeats.map((h) => h.elapsedSeconds);
    expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
  });

  it('refuses to fine-tune with a trainer that does not support warm start', async () => {
    await expect(
      runExternalTrainer({
        trainer: ExternalTrainerSpec.parse({ kind: 'external', command: ['true'] }),
        workDir: path.join(root, 'warm'),
        contract: { model: 'tiny', mode: 'fine_tune', trainingData: 'x', features, label: 'label', warmStartModel: '/champion.onnx', seed: 1 },
        heartbeat: () => {},
      }),
    ).rejects.toThrow(/cannot fine-tune: its spec says supportsWarmStart: false/);
  });

  describe('stopping', () => {
    // The trainer and a child it started, both sleeping; the child's pid is written where the test can read it.
    const withChild = (childScript: string) => sh(`${childScript} & echo $! > child.pid; wait`);

    async function startedPids(workDir: string, heartbeats: ExternalTrainerHeartbeat[]) {
      const child = await waitFor(() => {
        const file = path.join(workDir, 'child.pid');
        return existsSync(file) && readFileSync(file, 'utf8').trim() ? Number(readFileSync(file, 'utf8')) : undefined;
      }, 'the child pid');
      const leader = await waitFor(() => heartbeats[0]?.pid, 'a heartbeat');
      expect(running(leader)).toBe(true);
      expect(running(child)).toBe(true);
      return { leader, child };
    }

    it('cancelling kills the whole process group and rejects with TrainerCancelled', async () => {
      const controller = new AbortController();
      const { promise, workDir, heartbeats } = runTrainer(withChild('sleep 300'), { signal: controller.signal });
      const { leader, child } = await startedPids(workDir, heartbeats);
      controller.abort();
      await expect(promise).rejects.toMatchObject({ type: 'TrainerCancelled', message: expect.stringMatching(/process group was stopped \(sigterm\)/) });
      expect(running(leader)).toBe(false);
      expect(running(child)).toBe(false);
    });

    it('a child that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
      const controller = new AbortController();
      const { promise, workDir, heartbeats } = runTrainer(withChild(`(trap '' TERM; exec sleep 300)`), { signal: controller.signal, killGraceMs: 300 });
      const { leader, child } = await startedPids(workDir, heartbeats);
      controller.abort();
      await expect(promise).rejects.toMatchObject({ type: 'TrainerCancelled', message: expect.stringMatching(/\(sigkill\)/) });
      expect(running(leader)).toBe(false);
      expect(running(child)).toBe(false);
    });

    it('an already aborted signal starts nothing', async () => {
      const { promise, workDir } = runTrainer(sh('touch started'), { signal: AbortSignal.abort() });
      await expect(promise).rejects.toMatchObject({ type: 'TrainerCancelled' });
      expect(existsSync(path.join(workDir, 'started'))).toBe(false);
    });

    it('a run longer than timeoutSeconds is killed and rejects with TrainerTimeout', async () => {
      const started = Date.now();
      const { promise, workDir, heartbeats } = runTrainer(withChild('sleep 300'), { spec: { timeoutSeconds: 1 } });
      const { leader, child } = await startedPids(workDir, heartbeats);
      await expect(promise).rejects.toMatchObject({ type: 'TrainerTimeout', timeoutSeconds: 1, message: expect.stringMatching(/exceeded its timeout of 1 s/) });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(running(leader)).toBe(false);
      expect(running(child)).toBe(false);
    });

    it('processes left behind by a trainer that exited are stopped too', async () => {
      const { promise, workDir } = runTrainer(sh('sleep 300 & echo $! > child.pid; exit 4'));
      await expect(promise).rejects.toMatchObject({ exitCode: 4 });
      const child = Number(readFileSync(path.join(workDir, 'child.pid'), 'utf8'));
      expect(running(child)).toBe(false);
    });
  });
});
