/**
 * A real Label Studio started locally from the pinned Python environment
 * (test/python/label-studio-requirements.txt, prepared by lib/dev-stack/python-environment.ts),
 * on a free port with a data directory of its own (SQLite, media, its SECRET_KEY in `retrain-secret-key`), for
 * the labeling tests. Its admin user is created on the first start; the first start also
 * migrates the SQLite database, which takes about a minute on two cores, so start it once and
 * restart it (same port, data and token) rather than starting another.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startChildProcess, type SupervisedProcess } from './child-process';
import { findFreePort } from './free-port';
import { personalAccessToken } from './label-studio-session';
import { waitUntilReady } from './wait-until-ready';

export interface LabelStudioServerOptions {
  /** The venv's bin directory holding `label-studio`. */
  binDir: string;
  /** Label Studio's data directory (kept across restarts). */
  dataDir: string;
  port?: number;
  logDir?: string;
  /** The first start's migrations take about a minute; default 5 minutes. */
  startTimeoutMs?: number;
  admin?: { email: string; password: string };
  log?: (msg: string) => void;
}

export interface LabelStudioServer {
  readonly url: string;
  readonly port: number;
  readonly admin: { email: string; password: string };
  /** The admin's personal access token (a JWT refresh token; LABEL_STUDIO_API_TOKEN). */
  readonly token: string;
  /** Milliseconds the last start took until the API answered. */
  readonly startupMs: number;
  readonly running: boolean;
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory; the token stays valid (same SECRET_KEY). */
  start(): Promise<void>;
}

/** Starts Label Studio and resolves once `/health` answers and the admin's token exists. */
export async function startLabelStudio(options: LabelStudioServerOptions): Promise<LabelStudioServer> {
  const host = '127.0.0.1';
  const port = options.port ?? (await findFreePort(host));
  const url = `http://${host}:${port}`;
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const admin = options.admin ?? { email: 'retrain-admin@example.com', password: 'retrain-admin-password' };
  let process_: SupervisedProcess | null = null;
  let startupMs = 0;
  // Without a SECRET_KEY Label Studio makes a random one at every start, which would invalidate the
  // token (a signed JWT) at a restart: keep one in the data directory.
  const secretFile = path.join(dataDir, 'retrain-secret-key');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const secretKey = readFileSync(secretFile, 'utf8').trim();

  const launch = async () => {
    const started = Date.now();
    process_ = await startChildProcess({
      name: 'label-studio',
      command: path.join(options.binDir, 'label-studio'),
      // --username/--password create the admin (and the organization) on the first start; later starts find them.
      args: ['start', '--no-browser', '--internal-host', host, '--port', String(port), '--data-dir', dataDir, '--username', admin.email, '--password', admin.password, '--log-level', 'WARNING'],
      logDir: options.logDir ?? path.join(dataDir, 'logs'),
      pidFile: path.join(dataDir, 'label-studio.pid'),
      env: {
        ...process.env,
        PATH: `${options.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
        // No call to PyPI for a newer version at every start.
        LATEST_VERSION_CHECK: 'false',
        // Its webhooks go to Retrain on the loopback, which SSRF protection refuses by default.
        SSRF_PROTECTION_ENABLED: 'false',
        COLLECT_ANALYTICS: 'false',
        SECRET_KEY: secretKey,
        // No error reports to Label Studio's Sentry from a test machine.
        SENTRY_DSN: '',
        FRONTEND_SENTRY_DSN: '',
      },
      stopSignal: 'SIGINT',
      log: options.log,
    });
    await waitUntilReady({
      what: `Label Studio at ${url}`,
      probe: async () => {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) throw new Error(`/health answered ${response.status}`);
      },
      timeoutMs: options.startTimeoutMs ?? 300_000,
      intervalMs: 1_000,
      abort: process_.unexpectedExit,
    });
    startupMs = Date.now() - started;
  };

  await launch();
  let token: string;
  // Label Studio keeps one personal access token per user: a data directory started before keeps its admin's token here.
  const tokenFile = path.join(dataDir, 'retrain-admin-token');
  try {
    if (existsSync(tokenFile)) {
      token = readFileSync(tokenFile, 'utf8').trim();
    } else {
      token = await personalAccessToken(url, admin);
      writeFileSync(tokenFile, token, { mode: 0o600 });
    }
  } catch (err) {
    await (process_ as SupervisedProcess | null)?.stop();
    throw err;
  }
  options.log?.(`Label Studio ${url} (data ${dataDir}) answered after ${startupMs} ms`);
  return {
    url,
    port,
    admin,
    token,
    get startupMs() {
      return startupMs;
    },
    get running() {
      return process_ !== null;
    },
    async stop() {
      const p = process_ as SupervisedProcess | null;
      process_ = null;
      await p?.stop();
    },
    async start() {
      if (process_) return;
      await launch();
    },
  };
}
