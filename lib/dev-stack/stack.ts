import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { provideDatabase } from './database-provider';
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';
import { registerSearchAttributes } from '../clients/register-search-attributes';
import type { RetrainEnvironment, S3Config } from '../config/environment';
import { provideS3 } from './s3-provider';
import { isProcessAlive } from './stale-process';
import { locateTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-dev-server';

export interface StackOptions {
  /**
   * The parsed environment: its data directory holds all service state (temporal/, postgres/,
   * s3/, logs/); each of Temporal, Postgres and S3 is the external one it names, or started here.
   */
  environment: RetrainEnvironment;
  /** Fixed ports, e.g. for `retrain up`; free ports otherwise. */
  ports?: { temporal?: number; temporalUi?: number; postgres?: number; s3?: number };
  /** Custom search attributes registered on the namespace (the workflows' `RETRAIN_SEARCH_ATTRIBUTE_KEYS`). */
  searchAttributes?: ReadonlyArray<SearchAttributeKey<SearchAttributeType>>;
  /**
   * Stop everything and exit (code 130/143) on SIGINT/SIGTERM. Default true; pass false when
   * the caller handles signals itself and calls stop().
   */
  stopOnSignal?: boolean;
  log?: (msg: string) => void;
}

export interface Stack {
  dataDir: string;
  logDir: string;
  /** uiUrl is '' for a `TEMPORAL_ADDRESS` cluster without `TEMPORAL_UI_URL`. */
  temporal: { address: string; uiUrl: string; namespace: string };
  /** `DATABASE_URL`, or the local Postgres. */
  databaseUrl: string;
  /** `S3_ENDPOINT` and friends, or the local server; build clients with createS3Client(s3). */
  s3: S3Config;
  /** Milliseconds each service took until it answered (including locating binaries). */
  startupMs: { temporal: number; postgres: number; s3: number };
  /** Rejects, naming the service and its log tail, if a service process dies before stop(). */
  unexpectedExit: Promise<never>;
  /** Stops all services in reverse start order; idempotent. */
  stop(): Promise<void>;
}

/** Start order (they start in parallel, but stop one after the other in reverse: S3, Postgres, Temporal). */
const STACK_ORDER = ['temporal', 'postgres', 's3'] as const;
type ServiceName = (typeof STACK_ORDER)[number];

/**
 * Starts what Retrain needs, in parallel: the Temporal dev server unless `TEMPORAL_ADDRESS` is
 * set (either way with Retrain's search attributes registered), Postgres unless `DATABASE_URL`
 * is set, and S3 unless `S3_ENDPOINT` is set (bucket created). Used by `retrain up`, the demo
 * and the integration tests.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { environment, ports = {}, stopOnSignal = true, log } = options;
  const { namespace, cacheDir, dataDir } = environment;
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);

  // Services that are up, keyed by name; stopped in the reverse of STACK_ORDER.
  const running = new Map<ServiceName, () => Promise<void>>();
  const startupMs: Record<ServiceName, number> = { temporal: 0, postgres: 0, s3: 0 };
  const timed = async <T>(name: ServiceName, start: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await start();
    startupMs[name] = Date.now() - started;
    return result;
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const failures: string[] = [];
      for (const name of [...STACK_ORDER].reverse()) {
        try {
          await running.get(name)?.();
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
        }
      }
      releaseLock();
      if (failures.length > 0) throw new Error(`could not stop every service: ${failures.join('; ')}`);
      log?.('all services stopped');
    })();
    return stopping;
  };
  function onSignal(signal: NodeJS.Signals): void {
    log?.(`${signal} received: stopping services`);
    // Children still starting are killed by the exit hook of child-process.ts.
    void stop()
      .catch((err: unknown) => log?.((err as Error).message))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  }
  if (stopOnSignal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  const temporal = timed('temporal', async () => {
    const external = environment.temporal;
    let server: { address: string; uiUrl: string; unexpectedExit: Promise<never> };
    if (external) {
      log?.(`using the Temporal cluster at TEMPORAL_ADDRESS (${external.address})`);
      server = { ...external, unexpectedExit: new Promise<never>(() => undefined) };
    } else {
      const cliPath = await locateTemporalCli({ cacheDir, explicitPath: environment.binaries.temporalCli, log });
      const devServer = await startTemporalDevServer({
        cliPath,
        dataDir: path.join(dataDir, 'temporal'),
        logDir,
        port: ports.temporal,
        uiPort: ports.temporalUi,
        namespace,
        log,
      });
      running.set('temporal', devServer.stop);
      server = devServer;
    }
    const connection = await Connection.connect({ address: server.address });
    try {
      await registerSearchAttributes(connection, namespace, options.searchAttributes ?? []);
    } finally {
      await connection.close();
    }
    return server;
  });
  const database = timed('postgres', async () => {
    const provided = await provideDatabase({ environment, dataDir: path.join(dataDir, 'postgres'), logDir, port: ports.postgres, log });
    running.set('postgres', provided.stop);
    return provided;
  });
  const s3 = timed('s3', async () => {
    const provided = await provideS3({ environment, dataDir: path.join(dataDir, 's3'), logDir, port: ports.s3, log });
    running.set('s3', provided.stop);
    return provided;
  });

  const results = await Promise.allSettled([temporal, database, s3]);
  const [temporalResult, databaseResult, s3Result] = results;
  if (temporalResult.status === 'rejected' || databaseResult.status === 'rejected' || s3Result.status === 'rejected') {
    const reasons = results.flatMap((result, i) =>
      result.status === 'rejected' ? [`${STACK_ORDER[i]}: ${(result.reason as Error).message ?? String(result.reason)}`] : [],
    );
    await stop().catch((err: unknown) => log?.((err as Error).message));
    throw new Error(`could not start the Retrain services (logs in ${logDir}):\n${reasons.join('\n')}`);
  }

  const unexpectedExit = Promise.race([
    temporalResult.value.unexpectedExit,
    databaseResult.value.unexpectedExit,
    s3Result.value.unexpectedExit,
  ]).catch((err: unknown): Promise<never> => {
    // A terminal's Ctrl-C reaches the children too (same process group): once stop() has
    // begun, a service that exits before its turn to be stopped is not a failure.
    if (stopping) return new Promise<never>(() => undefined);
    throw err;
  });
  unexpectedExit.catch(() => undefined);

  log?.(
    `services ready: Temporal ${temporalResult.value.address} (UI ${temporalResult.value.uiUrl}), ` +
      `Postgres ${databaseResult.value.source === 'local' ? 'local' : 'DATABASE_URL'}, S3 ${s3Result.value.config.endpoint}`,
  );
  return {
    dataDir,
    logDir,
    temporal: { address: temporalResult.value.address, uiUrl: temporalResult.value.uiUrl, namespace },
    databaseUrl: databaseResult.value.url,
    s3: s3Result.value.config,
    startupMs,
    unexpectedExit,
    stop,
  };
}

/**
 * One stack per data directory: a second one would take over the first one's servers.
 * Returns the release function.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = path.join(dataDir, 'stack.pid');
  let holder = Number.NaN;
  try {
    holder = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
  } catch {
    // No lock yet.
  }
  if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
    throw new Error(`process ${holder} already runs the Retrain services in ${dataDir}; stop it first or use another data directory`);
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}
