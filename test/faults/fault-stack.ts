import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kysely } from 'kysely';
import { ensureBucket } from '../../lib/clients/ensure-bucket';
import { registerSearchAttributes } from '../../lib/clients/register-search-attributes';
import { createS3Client } from '../../lib/clients/s3-client';
import { localOnlyEnvironment, type S3Config } from '../../lib/config/environment';
import { generateApiKey, hashApiKey } from '../../lib/config/gateway-api-keys';
import { createDatabase } from '../../lib/db/connection';
import type { Database } from '../../lib/db/schema';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { startPostgres, type PostgresServer } from '../../lib/dev-stack/postgres-server';
import { locateTemporalCli } from '../../lib/dev-stack/temporal-cli';
import { startTemporalDevServer, type TemporalDevServer } from '../../lib/dev-stack/temporal-dev-server';
import { startVersitygw } from '../../lib/dev-stack/versitygw-server';
import type { S3Server } from '../../lib/dev-stack/s3-server';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { RETRAIN_SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Prints what a fault test injects and checks, so its output tells the story. */
export const say = (msg: string): void => void process.stderr.write(`[faults] ${msg}\n`);

/** A `retrain` command in a child process of its own group, so a SIGKILL takes it down like a dying machine. */
export interface RetrainProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  output(): string;
  /** Resolves when its stderr contains `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  isRunning(): boolean;
  /** SIGKILL to the whole process group. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/**
 * Retrain's services started the way a production topology runs them, each as its own process
 * that a test can kill or restart on the same port with its state kept: a Temporal dev server
 * on a SQLite file, Postgres, versitygw, and `retrain worker` / `retrain gateway` processes
 * configured only through environment variables.
 */
export interface FaultStack {
  readonly dir: string;
  readonly databaseUrl: string;
  readonly s3Config: S3Config;
  readonly temporalAddress: string;
  readonly taskQueue: string;
  /** The API key (predict and feedback, every model) of the stack's gateways, from their keys file. */
  readonly apiKey: string;
  /** Test-side clients (reconnect after each restart). */
  readonly db: Kysely<Database>;
  readonly s3: S3Client;
  readonly store: ArtifactStore;
  readonly client: Client;
  /** The environment of every `retrain` child process. */
  processEnvironment(name: string): NodeJS.ProcessEnv;
  spawnRetrain(name: string, args: readonly string[], extraEnv?: NodeJS.ProcessEnv): RetrainProcess;
  /** A worker polling every queue; resolves once it polls. */
  startWorker(name: string): Promise<RetrainProcess>;
  /** A gateway on a free port (with the stack's keys file); resolves with its URL and API key once it is ready. */
  startGateway(name: string): Promise<{ process: RetrainProcess; url: string; apiKey: string }>;
  postgres: { kill(): Promise<void>; restart(): Promise<void>; stop(): Promise<void>; start(): Promise<void> };
  s3Server: { stop(): Promise<void>; start(): Promise<void> };
  temporal: { stop(): Promise<void>; start(): Promise<void> };
  close(): Promise<void>;
}

export async function startFaultStack(name: string): Promise<FaultStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `retrain-faults-${name}-`));
  await chmod(dir, 0o711); // Postgres runs as an unprivileged user that must enter it.
  const environment = localOnlyEnvironment(dir, 'versitygw');
  const logDir = path.join(dir, 'logs');
  const ports = { postgres: await findFreePort(), s3: await findFreePort(), temporal: await findFreePort(), temporalUi: await findFreePort() };
  const credentials = { accessKeyId: 'faults', secretAccessKey: 'faults-secret' };
  const bucket = 'retrain';
  const taskQueue = `faults-${name}`;
  // Gateways run as in production: keys from a file of hashes, named by an environment variable.
  const apiKey = generateApiKey();
  const keysFile = path.join(dir, 'gateway-api-keys.json');
  await writeFile(keysFile, JSON.stringify({ keys: [{ name: 'fault-traffic', sha256: hashApiKey(apiKey), models: ['*'], scopes: ['predict', 'feedback'] }] }), { mode: 0o600 });

  let postgres: PostgresServer | undefined;
  const startPg = async () => {
    // After a SIGKILL the old backends may still hold shared memory for a moment.
    for (let attempt = 1; ; attempt++) {
      try {
        postgres = await startPostgres({ dataDir: path.join(dir, 'postgres'), port: ports.postgres, logDir, binDir: environment.binaries.postgresBinDir });
        postgres.unexpectedExit.catch(() => undefined);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  let s3Server: S3Server | undefined;
  const startS3 = async () => {
    s3Server = await startVersitygw({
      dataDir: path.join(dir, 's3'),
      port: ports.s3,
      cacheDir: environment.cacheDir,
      binaryPath: environment.binaries.versitygw ?? undefined,
      logDir,
      ...credentials,
    });
    s3Server.unexpectedExit.catch(() => undefined);
  };
  const cliPath = await locateTemporalCli({ cacheDir: environment.cacheDir, explicitPath: environment.binaries.temporalCli });
  let temporal: TemporalDevServer | undefined;
  const startTemporal = async () => {
    temporal = await startTemporalDevServer({ cliPath, dataDir: path.join(dir, 'temporal'), port: ports.temporal, uiPort: ports.temporalUi, logDir });
    temporal.unexpectedExit.catch(() => undefined);
  };
  await Promise.all([startPg(), startS3(), startTemporal()]);

  const databaseUrl = postgres!.url;
  const s3Config: S3Config = { endpoint: s3Server!.endpoint, region: 'us-east-1', ...credentials, bucket };
  const s3 = createS3Client(s3Config);
  await ensureBucket(s3, bucket);
  const connection = await Connection.connect({ address: temporal!.address });
  await registerSearchAttributes(connection, 'default', RETRAIN_SEARCH_ATTRIBUTE_KEYS);
  const client = new Client({ connection });
  const db = createDatabase(databaseUrl, { poolSize: 2, applicationName: 'faults-test', onConnectionError: () => undefined });
  const processes: RetrainProcess[] = [];

  const processEnvironment = (processName: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    RETRAIN_DATA_DIR: path.join(dir, 'processes', processName),
    RETRAIN_TASK_QUEUE: taskQueue,
    RETRAIN_LOG_LEVEL: 'WARN',
    RETRAIN_CACHE_DIR: environment.cacheDir,
    TEMPORAL_ADDRESS: temporal!.address,
    DATABASE_URL: databaseUrl,
    S3_ENDPOINT: s3Config.endpoint,
    S3_ACCESS_KEY_ID: s3Config.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3Config.secretAccessKey,
    S3_BUCKET: bucket,
    RETRAIN_GATEWAY_API_KEYS_FILE: keysFile,
  });

  const spawnRetrain = (processName: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): RetrainProcess => {
    const child = spawn(process.execPath, [TSX, path.join(ROOT, 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...processEnvironment(processName), ...extraEnv },
    });
    let output = '';
    const waiters: Array<() => void> = [];
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of waiters.splice(0)) check();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const isRunning = () => child.exitCode === null && child.signalCode === null;
    const proc: RetrainProcess = {
      name: processName,
      child,
      output: () => output,
      isRunning,
      waitForOutput(pattern, timeoutMs = 60_000) {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${processName} did not print ${pattern} within ${timeoutMs} ms; it printed:\n${output.slice(-2000)}`)), timeoutMs);
          const check = () => {
            if (pattern.test(output)) {
              clearTimeout(timer);
              resolve();
            } else if (!isRunning()) {
              clearTimeout(timer);
              reject(new Error(`${processName} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${output.slice(-2000)}`));
            } else waiters.push(check);
          };
          check();
          void exited.then(check);
        });
      },
      async kill() {
        if (isRunning() && child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
          }
        }
        await exited;
      },
      async stop() {
        if (isRunning()) child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
        await proc.kill();
      },
    };
    processes.push(proc);
    return proc;
  };

  return {
    dir,
    databaseUrl,
    s3Config,
    temporalAddress: temporal!.address,
    taskQueue,
    apiKey,
    db,
    s3,
    store: new ArtifactStore({ client: s3, bucket }),
    client,
    processEnvironment,
    spawnRetrain,
    async startWorker(processName) {
      const worker = spawnRetrain(processName, ['worker']);
      await worker.waitForOutput(/worker polling/);
      return worker;
    },
    async startGateway(processName) {
      const port = await findFreePort();
      const gateway = spawnRetrain(processName, ['gateway'], { GATEWAY_PORT: String(port) });
      await gateway.waitForOutput(/gateway listening on/);
      return { process: gateway, url: `http://127.0.0.1:${port}`, apiKey };
    },
    postgres: {
      async kill() {
        const pid = Number(readFileSync(path.join(dir, 'postgres', 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 'SIGKILL');
        while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
      },
      async restart() {
        await startPg();
      },
      async stop() {
        await postgres?.stop();
      },
      async start() {
        await startPg();
      },
    },
    s3Server: {
      async stop() {
        await s3Server?.stop();
      },
      start: startS3,
    },
    temporal: {
      async stop() {
        await temporal?.stop();
      },
      start: startTemporal,
    },
    async close() {
      await Promise.all(processes.map((p) => p.kill()));
      s3.destroy();
      await db.destroy().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await temporal?.stop().catch(() => undefined);
      await s3Server?.stop().catch(() => undefined);
      await postgres?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
