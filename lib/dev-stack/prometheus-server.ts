import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { startChildProcess } from './child-process';
import { findOnPath } from './find-executable';
import { findFreePort } from './free-port';
import { waitUntilReady } from './wait-until-ready';

/** Debian's package (`apt-get install prometheus`, which also ships promtool). */
const INSTALL_HINT = 'sudo apt-get install -y prometheus';

export interface PrometheusServerOptions {
  /** The configuration file (deploy/prometheus/prometheus.yml or one derived from it); relative paths in it resolve from its folder. */
  configFile: string;
  /** The TSDB lives in `<dataDir>/tsdb`; the log in `<logDir>/prometheus.log` (default `<dataDir>/logs`). */
  dataDir: string;
  logDir?: string;
  host?: string;
  /** A free one when not given. */
  port?: number;
  /** An explicit binary; else `prometheus` on PATH. */
  binaryPath?: string;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface PrometheusServer {
  /** Base URL of the web UI and the HTTP API (`${url}/api/v1/query`). */
  url: string;
  /** Rejects, with the server's log tail, if Prometheus dies before stop(). */
  unexpectedExit: Promise<never>;
  stop(): Promise<void>;
}

/** Path of the `prometheus` binary, or an error naming the package that installs it. */
export function locatePrometheus(explicitPath?: string, name = 'prometheus'): string {
  const found = explicitPath ?? findOnPath(name);
  if (!found) throw new Error(`${name} not found on PATH: install it with \`${INSTALL_HINT}\``);
  return found;
}

/**
 * Runs a Prometheus server with its own data directory on a free port (like the other servers
 * of the local stack) and resolves once `/-/ready` answers: the configuration, its rule files
 * and its scrape targets are loaded.
 */
export async function startPrometheus(options: PrometheusServerOptions): Promise<PrometheusServer> {
  const { host = '127.0.0.1', startTimeoutMs = 30_000, log } = options;
  const binary = locatePrometheus(options.binaryPath);
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(path.join(dataDir, 'tsdb'), { recursive: true });
  const port = options.port ?? (await findFreePort(host));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const server = await startChildProcess({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${path.resolve(options.configFile)}`,
      `--storage.tsdb.path=${path.join(dataDir, 'tsdb')}`,
      `--web.listen-address=${host.includes(':') ? `[${host}]` : host}:${port}`,
      // Debian's default console paths need not exist; the tests only use the API.
      '--web.console.templates=',
      '--web.console.libraries=',
    ],
    logDir: options.logDir ?? path.join(dataDir, 'logs'),
    pidFile: path.join(dataDir, 'prometheus.pid'),
    stopSignal: 'SIGTERM',
    log,
  });
  try {
    await waitUntilReady({
      what: `Prometheus at ${url}`,
      probe: async () => {
        const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) throw new Error(`/-/ready answered ${response.status}`);
      },
      timeoutMs: startTimeoutMs,
      abort: server.unexpectedExit,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  log?.(`prometheus ready at ${url}, data in ${dataDir}`);
  return { url, unexpectedExit: server.unexpectedExit, stop: async () => void (await server.stop()) };
}
