import { existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startChildProcess } from './child-process';
import { findFreePort } from './free-port';
import { choosePostgresBinaries } from './postgres-binaries';
import { stopStaleProcess } from './stale-process';
import { assertReachableBy, unprivilegedUser, type SystemUser } from './unprivileged-user';
import { waitUntilReady } from './wait-until-ready';

export interface PostgresServerOptions {
  /** The cluster lives in `<dataDir>/pgdata` and survives restarts; sockets go to `<dataDir>/socket`. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when not given. */
  port?: number;
  /** Database created at start-up if missing; default "retrain". */
  database?: string;
  /** Server output goes to `<logDir>/postgres.log`; defaults to `<dataDir>/logs`. */
  logDir?: string;
  startTimeoutMs?: number;
  log?: (msg: string) => void;
  /** POSTGRES_BIN_DIR, as parsed by lib/config/environment. */
  binDir?: string | null;
  env?: NodeJS.ProcessEnv;
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/<database>; trust authentication, local connections only. */
  url: string;
  /** Rejects, with the server's log tail, if the server dies before stop(). */
  unexpectedExit: Promise<never>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
/** Linux limit for a unix socket path (sun_path), including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * Starts a real Postgres on 127.0.0.1, creating the cluster on first use. When running as
 * root, initdb and postgres run as the `postgres` user (else `nobody`), since Postgres refuses root.
 */
export async function startPostgres(options: PostgresServerOptions): Promise<PostgresServer> {
  const { database = 'retrain', startTimeoutMs = 60_000, log, env = process.env } = options;
  const dataDir = path.resolve(options.dataDir);
  const pgdata = path.join(dataDir, 'pgdata');
  const socketDir = path.join(dataDir, 'socket');
  const logDir = options.logDir ?? path.join(dataDir, 'logs');
  const started = Date.now();

  const clusterMajor = existingClusterMajor(pgdata);
  const binaries = choosePostgresBinaries(clusterMajor, { binDir: options.binDir, path: env.PATH });
  const user = unprivilegedUser();
  // The service directory stays traversable; only the cluster and socket directories are private.
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (user) {
    assertReachableBy(user, pgdata, 'Postgres');
    assertReachableBy(user, binaries.postgres, 'Postgres');
    chownTree(pgdata, user);
    chownTree(socketDir, user);
  }
  const runAs = user ? { uid: user.uid, gid: user.gid } : {};
  // Postgres needs no environment of ours; a small one keeps LANG etc. from leaking in.
  const childEnv = { PATH: env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };

  if (clusterMajor === undefined) {
    if (readdirSync(pgdata).length > 0) {
      throw new Error(`${pgdata} is neither empty nor a Postgres cluster (no PG_VERSION); move it away or choose another data directory`);
    }
    log?.(`creating a Postgres ${binaries.major} cluster in ${pgdata} (${binaries.source} binaries)`);
    const initdb = await startChildProcess({
      name: 'initdb',
      command: binaries.initdb,
      args: ['-D', pgdata, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      logDir,
      env: childEnv,
      cwd: dataDir,
      ...runAs,
    });
    const status = await initdb.exited;
    if (status.code !== 0) {
      throw new Error(`initdb failed (code ${status.code}); last lines of ${initdb.logFile}:\n${await initdb.logTail()}`);
    }
  }

  await clearStalePostmaster(pgdata, log);

  const port = options.port ?? (await findFreePort(HOST));
  // A too long socket path would stop the server; TCP is all we use, so go without one then.
  const socketFits = path.join(socketDir, `.s.PGSQL.${port}`).length < MAX_SOCKET_PATH;
  const server = await startChildProcess({
    name: 'postgres',
    command: binaries.postgres,
    args: ['-D', pgdata, '-p', String(port), '-h', HOST, '-k', socketFits ? socketDir : '', '-c', 'logging_collector=off'],
    logDir,
    env: childEnv,
    cwd: dataDir,
    ...runAs,
    // SIGINT is Postgres's "fast shutdown": running transactions are rolled back, no waiting for clients.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 20_000,
    log,
  });

  const adminUrl = `postgres://${SUPERUSER}@${HOST}:${port}/postgres`;
  try {
    await waitUntilReady({
      what: `Postgres at ${HOST}:${port}`,
      probe: () => withClient(adminUrl, async (client) => void (await client.query('select 1'))),
      timeoutMs: startTimeoutMs,
      abort: server.unexpectedExit,
    });
    await withClient(adminUrl, (client) => createDatabaseIfMissing(client, database));
  } catch (err) {
    await server.stop();
    throw err;
  }
  log?.(`postgres ${binaries.major} ready in ${((Date.now() - started) / 1000).toFixed(1)} s on ${HOST}:${port}`);

  return {
    url: `postgres://${SUPERUSER}@${HOST}:${port}/${database}`,
    unexpectedExit: server.unexpectedExit,
    stop: async () => {
      await server.stop();
    },
  };
}

/** Major version of the cluster in `pgdata`, undefined when there is none yet. */
function existingClusterMajor(pgdata: string): number | undefined {
  const versionFile = path.join(pgdata, 'PG_VERSION');
  if (!existsSync(versionFile)) return undefined;
  return Number.parseInt(readFileSync(versionFile, 'utf8').trim(), 10);
}

/**
 * A postmaster.pid left by a killed run: stop that postmaster if it still runs on this data
 * directory; otherwise remove the file, since a reused pid would make Postgres refuse to start.
 */
async function clearStalePostmaster(pgdata: string, log?: (msg: string) => void): Promise<void> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid)) {
    await stopStaleProcess({
      pid,
      matches: (argv) => argv.includes(pgdata) && path.basename(argv[0] ?? '') === 'postgres',
      signal: 'SIGINT',
      timeoutMs: 20_000,
      log,
    });
  }
  // A postmaster that shut down removed the file itself; whatever is left is stale.
  rmSync(pidFile, { force: true });
}

async function createDatabaseIfMissing(client: pg.Client, database: string): Promise<void> {
  const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
  if (rowCount) return;
  try {
    await client.query(`create database ${client.escapeIdentifier(database)}`);
  } catch (err) {
    // 42P04 duplicate_database: created concurrently, which is fine.
    if ((err as { code?: string }).code !== '42P04') throw err;
  }
}

async function withClient<T>(connectionString: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
  // Errors after connecting (e.g. the server stopping) surface through the query instead.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Hands `dir` and everything below it to `user`, unless it already is theirs. */
function chownTree(dir: string, user: SystemUser): void {
  const stat = lstatSync(dir);
  if (stat.uid === user.uid && stat.gid === user.gid) return;
  const visit = (entry: string): void => {
    lchownSync(entry, user.uid, user.gid);
    const entryStat = lstatSync(entry);
    if (entryStat.isDirectory()) for (const child of readdirSync(entry)) visit(path.join(entry, child));
  };
  visit(dir);
}
