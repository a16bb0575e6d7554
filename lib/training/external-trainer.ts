/**
 * Runs a user's own training program (ExternalTrainerSpec) under the contract in
 * docs/external-trainer.md: a JSON file names the training Parquet, the output paths,
 * hyperparameters and the warm-start model; the program writes an ONNX model and a
 * metrics JSON, which are checked before the run counts as a success.
 */
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExternalTrainerSpec } from '../spec/model-spec';
import { spawnProcessGroup, type ProcessExit, type ProcessGroup } from './external-process-group';
import { buildContract, trainerEnvironment, type ExternalTrainerInput } from './external-trainer-contract';
import { ExternalTrainerFailedError, TrainerCancelledError, TrainerTimeoutError } from './external-trainer-errors';
import { validateTrainerOutput } from './external-trainer-output';

/** What each heartbeat reports while the program runs. */
export interface ExternalTrainerHeartbeat {
  phase: 'external-trainer';
  pid: number;
  elapsedSeconds: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** The last non-empty line the program wrote to stderr (at most 500 characters). */
  lastStderrLine: string | null;
}

export interface ExternalTrainerOptions {
  trainer: ExternalTrainerSpec;
  /**
   * Scratch directory of this run: contract.json, output/ (model.onnx, metrics.json)
   * and logs/ (stdout.log, stderr.log) are created in it. The program's working directory.
   */
  workDir: string;
  contract: ExternalTrainerInput;
  heartbeat: (details: ExternalTrainerHeartbeat) => void;
  /** Aborting kills the program's whole process group and rejects with TrainerCancelledError. */
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** Default 5000 ms. */
  heartbeatIntervalMs?: number;
  /** Time between SIGTERM and SIGKILL when the group is stopped; default 10 000 ms. */
  killGraceMs?: number;
}

export interface ExternalTrainerResult {
  onnxPath: string;
  metricsPath: string;
  /** The program's metrics.json, a JSON object. */
  metrics: Record<string, unknown>;
  contractPath: string;
  stdoutPath: string;
  stderrPath: string;
  durationMs: number;
  exitCode: number;
}

/** Where a run in `workDir` keeps its files; the logs are there after a failed run too. */
export function externalTrainerPaths(workDir: string) {
  const dir = path.resolve(workDir);
  const outputDir = path.join(dir, 'output');
  return {
    workDir: dir,
    contractPath: path.join(dir, 'contract.json'),
    outputDir,
    onnxPath: path.join(outputDir, 'model.onnx'),
    metricsPath: path.join(outputDir, 'metrics.json'),
    logDir: path.join(dir, 'logs'),
    stdoutPath: path.join(dir, 'logs', 'stdout.log'),
    stderrPath: path.join(dir, 'logs', 'stderr.log'),
  };
}

/**
 * Runs the program in its own process group with stdout/stderr in files, heartbeating
 * while it runs. Rejects with ExternalTrainerFailedError (non-zero exit),
 * InvalidTrainerOutputError (model or metrics breach the contract), TrainerCancelledError
 * or TrainerTimeoutError (the whole group was killed first).
 *
 * @example
 * const result = await runExternalTrainer({
 *   trainer: spec.training.trainer, workDir, heartbeat: (d) => Context.current().heartbeat(d),
 *   signal: Context.current().cancellationSignal,
 *   contract: { model: spec.name, mode: 'from_scratch', trainingData, features: spec.features, label: spec.label.name, warmStartModel: null, seed: 42 },
 * });
 */
export async function runExternalTrainer(options: ExternalTrainerOptions): Promise<ExternalTrainerResult> {
  const { trainer, contract: input, signal } = options;
  const log = options.log ?? (() => {});
  const commandLine = trainer.command.join(' ');
  if (input.mode === 'fine_tune' && !trainer.supportsWarmStart) {
    throw new Error(`external trainer '${commandLine}' cannot fine-tune: its spec says supportsWarmStart: false`);
  }
  if (input.mode === 'fine_tune' && !input.warmStartModel) throw new Error('fine_tune needs a warmStartModel');
  if (signal?.aborted) throw new TrainerCancelledError(`external trainer '${commandLine}' was cancelled before it started`);

  const { workDir, outputDir, logDir, onnxPath, metricsPath, contractPath, stdoutPath, stderrPath } = externalTrainerPaths(options.workDir);
  // A retried attempt reuses the directory: nothing an earlier attempt wrote may pass for this run's output.
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const contract = buildContract(input, trainer.hyperparameters, outputDir, { model: onnxPath, metrics: metricsPath });
  await writeFile(contractPath, `${JSON.stringify(contract, null, 2)}\n`);

  const [command, ...args] = trainer.command as [string, ...string[]];
  const stdoutFd = openSync(stdoutPath, 'w');
  const stderrFd = openSync(stderrPath, 'w');
  const started = performance.now();
  let group: ProcessGroup;
  try {
    group = await spawnProcessGroup(command, args, {
      cwd: workDir,
      env: trainerEnvironment(process.env, trainer.env, contractPath, contract),
      stdout: stdoutFd,
      stderr: stderrFd,
    });
  } catch (err) {
    throw new ExternalTrainerFailedError(`external trainer '${commandLine}' could not be started: ${(err as Error).message}`, null, null, '');
  } finally {
    // The child holds its own copies of the descriptors.
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
  log(`external trainer '${commandLine}' started (pid ${group.pid}, ${contract.mode})`);

  const sendHeartbeat = async () => {
    const [stdoutBytes, stderrBytes, lastStderrLine] = await Promise.all([fileSize(stdoutPath), fileSize(stderrPath), lastLine(stderrPath)]);
    options.heartbeat({
      phase: 'external-trainer',
      pid: group.pid,
      elapsedSeconds: Math.round((performance.now() - started) / 1000),
      stdoutBytes,
      stderrBytes,
      lastStderrLine,
    });
  };
  const heartbeatFailed = (err: unknown) => log(`heartbeat failed: ${(err as Error).message}`);
  sendHeartbeat().catch(heartbeatFailed);
  const heartbeats = setInterval(() => sendHeartbeat().catch(heartbeatFailed), options.heartbeatIntervalMs ?? 5000);

  type Outcome = { kind: 'exit'; exit: ProcessExit } | { kind: 'abort' } | { kind: 'timeout' };
  let onAbort: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race<Outcome>([
    group.exited.then((exit) => ({ kind: 'exit', exit })),
    new Promise<Outcome>((resolve) => {
      onAbort = () => resolve({ kind: 'abort' });
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
    new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), trainer.timeoutSeconds * 1000);
    }),
  ]).finally(() => {
    clearInterval(heartbeats);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });

  // Whatever ended the run, nothing the program started may outlive it.
  const stopped = await group.terminate(options.killGraceMs ?? 10_000);
  const durationMs = performance.now() - started;
  const seconds = (durationMs / 1000).toFixed(1);
  if (outcome.kind === 'abort') {
    throw new TrainerCancelledError(`external trainer '${commandLine}' was cancelled after ${seconds} s; its process group was stopped (${stopped})`);
  }
  if (outcome.kind === 'timeout') {
    throw new TrainerTimeoutError(
      `external trainer '${commandLine}' exceeded its timeout of ${trainer.timeoutSeconds} s; its process group was stopped (${stopped})${await stderrSuffix(stderrPath)}`,
      trainer.timeoutSeconds,
    );
  }
  if (stopped !== 'none-running') log(`external trainer '${commandLine}' left processes behind; they were stopped (${stopped})`);
  // The last heartbeat shows the run's final output sizes and stderr line, whenever the last tick was.
  await sendHeartbeat().catch(heartbeatFailed);

  const { code, signal: exitSignal } = outcome.exit;
  if (code !== 0) {
    const tail = await stderrTail(stderrPath);
    const how = code === null ? `was killed by ${exitSignal}` : `exited with code ${code}`;
    throw new ExternalTrainerFailedError(`external trainer '${commandLine}' ${how}${tail ? `; stderr ends with:\n${tail}` : ' and wrote nothing to stderr'}`, code, exitSignal, tail);
  }
  log(`external trainer '${commandLine}' finished in ${seconds} s; checking its output`);

  const { metrics } = await validateTrainerOutput({ model: onnxPath, metrics: metricsPath, trainingData: contract.trainingData, features: input.features });
  return { onnxPath, metricsPath, metrics, contractPath, stdoutPath, stderrPath, durationMs, exitCode: code };
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The last `maxBytes` of a file as text (a trainer's log may be large; only its end matters). */
async function readTail(file: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

async function lastLine(file: string): Promise<string | null> {
  const lines = (await readTail(file, 4096)).split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
  const last = lines.at(-1);
  return last === undefined ? null : last.slice(-500);
}

/** The last 20 lines (at most 4 KiB) of stderr; Python tracebacks end with the line that matters. */
async function stderrTail(file: string): Promise<string> {
  const lines = (await readTail(file, 4096)).trimEnd().split('\n');
  return lines.slice(-20).join('\n').trim();
}

async function stderrSuffix(file: string): Promise<string> {
  const tail = await stderrTail(file);
  return tail ? `; stderr ends with:\n${tail}` : '';
}
