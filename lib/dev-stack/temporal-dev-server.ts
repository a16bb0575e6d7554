import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startChildProcess } from './child-process';
import { findFreePort } from './free-port';
import { waitUntilReady } from './wait-until-ready';

export interface TemporalDevServerOptions {
  /** Path of the `temporal` binary, see locateTemporalCli. */
  cliPath: string;
  /** State lives in `<dataDir>/temporal.db` (SQLite), so workflows survive a restart. */
  dataDir: string;
  ip?: string;
  /** Frontend gRPC port; a free one when not given. */
  port?: number;
  /** Web UI port; a free one when not given. */
  uiPort?: number;
  /** Created at start-up if missing ("default" always exists). */
  namespace?: string;
  /** Server output goes to `<logDir>/temporal.log`; defaults to `<dataDir>/logs`. */
  logDir?: string;
  /** How long to wait for the frontend and the UI; default 60 s. */
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface TemporalDevServer {
  /** gRPC address for clients and workers: "127.0.0.1:7233". */
  address: string;
  uiUrl: string;
  namespace: string;
  /** Rejects, with the server's log tail, if the server dies before stop(). */
  unexpectedExit: Promise<never>;
  stop(): Promise<void>;
}

/**
 * Runs `temporal server start-dev` (Web UI included) and resolves once the frontend serves
 * the namespace and the UI answers HTTP.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  // A port the OS just called free can be taken (by another listener, or as the source port of an
  // outgoing connection) before the server binds it; with ports of our choosing, choose again.
  const choosesPorts = options.port === undefined && options.uiPort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      const logFile = path.join(options.logDir ?? path.join(path.resolve(options.dataDir), 'logs'), 'temporal.log');
      if (!choosesPorts || attempt >= 3 || !(await lastStartFailedToBind(logFile))) throw err;
      options.log?.(`temporal could not bind its ports (taken since they were chosen): starting again on others (attempt ${attempt + 1} of 3)`);
    }
  }
}

/** Whether the server's latest start, as its log records it, failed on a port already in use. */
async function lastStartFailedToBind(logFile: string): Promise<boolean> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lastStart = text.lastIndexOf('\n=== ');
  return /address already in use/.test(lastStart >= 0 ? text.slice(lastStart) : text);
}

async function startOnce(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const { cliPath, ip = '127.0.0.1', namespace = 'default', startTimeoutMs = 60_000, log } = options;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort(ip));
  const uiPort = options.uiPort ?? (await findFreePort(ip));
  const address = `${hostForUrl(ip)}:${port}`;
  const uiUrl = `http://${hostForUrl(ip)}:${uiPort}`;

  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(dataDir, 'temporal.db'),
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--log-level',
    'warn',
  ];
  // "default" is always created; naming it again would be harmless but noisy.
  if (namespace !== 'default') args.push('--namespace', namespace);

  const started = Date.now();
  const server = await startChildProcess({
    name: 'temporal',
    command: cliPath,
    args,
    logDir: options.logDir ?? path.join(dataDir, 'logs'),
    pidFile: path.join(dataDir, 'temporal.pid'),
    stopSignal: 'SIGTERM',
    log,
  });
  try {
    await waitUntilReady({
      what: `Temporal frontend at ${address} (namespace ${namespace})`,
      probe: () => describeNamespace(address, namespace),
      timeoutMs: startTimeoutMs,
      abort: server.unexpectedExit,
    });
    await waitUntilReady({
      what: `Temporal Web UI at ${uiUrl}`,
      probe: () => httpOk(uiUrl),
      timeoutMs: Math.max(5_000, startTimeoutMs - (Date.now() - started)),
      abort: server.unexpectedExit,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  log?.(`temporal ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${address}, UI ${uiUrl}`);

  return {
    address,
    uiUrl,
    namespace,
    unexpectedExit: server.unexpectedExit,
    stop: async () => {
      await server.stop();
    },
  };
}

async function describeNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.describeNamespace({ namespace }));
  } finally {
    await connection.close();
  }
}

async function httpOk(url: string): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
}

function hostForUrl(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}
