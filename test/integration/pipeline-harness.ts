import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadEnvironment, type RetrainEnvironment } from '../../lib/config/environment';
import { locateTemporalCli } from '../../lib/dev-stack/temporal-cli';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../activities';
import { createActivityClients } from '../../worker/activity-clients';
import { createRetrainWorkers, runWorkersUntil, WORKFLOWS_PATH } from '../../worker/retrain-workers';
import { RETRAINING_PIPELINE, retrainingPipelineId, type RetrainingPipelineInput, type RetrainingPipelineResult } from '../../workflows/definitions';
import type { TestServices } from './test-services';
import { createEmptyDatabase } from '../fixtures/test-database';

const execFileAsync = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');

/** How a `retrain` command ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PipelineHarness {
  services: TestServices;
  client: Client;
  taskQueue: string;
  deps: ActivityDeps;
  databaseUrl: string;
  /**
   * Writes a finished workflow's history to test/replay/histories/<name>.json
   * when RETRAIN_RECORD_HISTORIES=1 (how the committed replay histories are made).
   */
  recordHistory(workflowId: string, name: string): Promise<void>;
  /** Runs one pipeline to its end (workflow id `retrain/<model>/<day>`) with the workers running. */
  runPipeline(input: RetrainingPipelineInput): Promise<RetrainingPipelineResult>;
  /** Runs the workers while `body` runs; they stop when it settles. */
  withWorkers<T>(body: () => Promise<T>): Promise<T>;
  /** Environment for a `retrain` command in a child process, pointed at these services, this database and task queue. */
  cliEnvironment(dataDirName: string): NodeJS.ProcessEnv;
  /**
   * `retrain worker` in its own process group (so killWorkerProcess takes it down the way a
   * machine dies), with cliEnvironment(name) and `extraEnv`; its stderr is echoed as `[name]`.
   */
  startWorkerProcess(name: string, extraEnv?: NodeJS.ProcessEnv): ChildProcess;
  /**
   * Runs `retrain <args>` (bin/retrain.cjs, as a user would) in a child process with
   * cliEnvironment('cli') and `env` on top; resolves with its exit code and output.
   */
  retrain(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  close(): Promise<void>;
}

export interface PipelineHarnessOptions {
  /** The gateway base URL the workers make report links under (ActivityDeps.reportsBaseUrl); unset: presigned S3 links. */
  reportsBaseUrl?: string;
  /** The Label Studio and webhook the workers' labeling hand-offs use (RetrainEnvironment['labeling']); unset: none. */
  labeling?: RetrainEnvironment['labeling'];
}

/**
 * A fresh, migrated database, a unique task queue and a worker set for one
 * test file, over the real services of the global setup.
 */
export async function createPipelineHarness(name: string, options: PipelineHarnessOptions = {}): Promise<PipelineHarness> {
  const services = inject('services');
  installQuietRuntime();
  const suffix = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const created = await createEmptyDatabase(services.databaseUrl, `retrain_${suffix}`, 1);
  await created.db.destroy();
  const databaseUrl = created.url;

  const workDir = await mkdtemp(path.join(services.workDir, `${suffix}-`));
  const clients = await createActivityClients({ databaseUrl, s3: services.s3, workDir, reportsBaseUrl: options.reportsBaseUrl, ...(options.labeling ? { labeling: options.labeling } : {}) });
  const connection = await Connection.connect({ address: services.temporalAddress });
  const client = new Client({ connection, namespace: services.namespace });
  const nativeConnection = await NativeConnection.connect({ address: services.temporalAddress });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const taskQueue = `test-${suffix}`;

  async function withWorkers<T>(body: () => Promise<T>): Promise<T> {
    const workers: Worker[] = await createRetrainWorkers({
      connection: nativeConnection,
      namespace: services.namespace,
      taskQueue,
      deps: clients.deps,
      workflowBundle,
    });
    return runWorkersUntil(workers, body());
  }

  function cliEnvironment(dataDirName: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_NAMESPACE: services.namespace,
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: services.s3.endpoint,
      S3_REGION: services.s3.region,
      S3_ACCESS_KEY_ID: services.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: services.s3.secretAccessKey,
      S3_BUCKET: services.s3.bucket,
      RETRAIN_TASK_QUEUE: taskQueue,
      RETRAIN_DATA_DIR: path.join(workDir, dataDirName),
      RETRAIN_LOG_LEVEL: 'ERROR',
    };
  }

  const harness: PipelineHarness = {
    services,
    client,
    taskQueue,
    deps: clients.deps,
    databaseUrl,
    async recordHistory(workflowId, historyName) {
      if (process.env.RETRAIN_RECORD_HISTORIES !== '1') return;
      // The CLI's JSON is the format Worker.runReplayHistory reads (and what `temporal workflow show` gives users).
      const cli = await locateTemporalCli({ cacheDir: loadEnvironment().cacheDir, explicitPath: loadEnvironment().binaries.temporalCli });
      const { stdout } = await execFileAsync(
        cli,
        ['workflow', 'show', '--workflow-id', workflowId, '--address', services.temporalAddress, '--namespace', services.namespace, '--output', 'json'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const file = path.join(__dirname, '..', 'replay', 'histories', `${historyName}.json`);
      // The workflow id travels with the history: child workflow ids derive from it, so replay needs it.
      await writeFile(file, `${JSON.stringify({ workflowId, history: JSON.parse(stdout) }, null, 1)}\n`);
    },
    async runPipeline(input) {
      return withWorkers(() =>
        client.workflow.execute(RETRAINING_PIPELINE, { taskQueue, workflowId: retrainingPipelineId(input.spec.name, input.day), args: [input] }),
      );
    },
    withWorkers,
    cliEnvironment,
    async retrain(args, env = {}) {
      try {
        const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(ROOT, 'bin', 'retrain.cjs'), ...args], { cwd: ROOT, env: { ...cliEnvironment('cli'), ...env } });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const failed = err as { code?: number; stdout?: string; stderr?: string };
        if (typeof failed.code !== 'number') throw err;
        return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    },
    startWorkerProcess(workerName, extraEnv = {}) {
      const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'cli', 'main.ts'), 'worker'], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...harness.cliEnvironment(workerName), ...extraEnv },
      });
      child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${workerName}] ${chunk.toString()}`));
      return child;
    },
    async close() {
      await clients.close();
      await connection.close();
      await nativeConnection.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** SIGKILL to the whole process group of a worker started by startWorkerProcess (nothing if it has exited). */
export function killWorkerProcess(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

let runtimeInstalled = false;

/** Worker lifecycle logs drown test output; keep warnings and errors. Install once per process. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};
