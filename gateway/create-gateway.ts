/**
 * The inference gateway: serves the deployed versions of every model (champion, canary by
 * weight, shadow mirrored), validates requests against each model's spec, logs every
 * prediction to Postgres in batches and follows deployment changes through LISTEN/NOTIFY.
 *
 * @example
 * const gateway = createGateway({ db, store, databaseUrl });
 * const { url } = await gateway.start(8080, '0.0.0.0');
 * // ... later
 * await gateway.close();
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import pg from 'pg';
import { copyPredictions } from '../lib/db/repositories/predictions';
import type { Database } from '../lib/db/schema';
import type { ArtifactStore } from '../lib/store/artifact-store';
import { DeploymentFollower } from './deployment-follower';
import { DeploymentRouter } from './deployment-router';
import { GatewayMetrics } from './gateway-metrics';
import { checkReadiness, registerHealthRoutes, type Readiness } from './health-routes';
import { registerInferenceProtocolRoutes } from './inference-protocol-routes';
import { registerPredictRoutes, statusOf } from './predict-routes';
import { PredictionLog } from './prediction-log';
import { PredictionService } from './prediction-service';
import { GatewayRequestError } from './request-error';
import { SessionCache } from './session-cache';

export interface GatewayLimits {
  /** Largest request body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Most instances (v1) or rows (v2) in one request. */
  maxInstances: number;
  /** Prediction-log rows held in memory; beyond, requests wait for the database (and get a 503 after 5 s). */
  maxQueuedPredictions: number;
  /** Mirrored requests waiting to be scored by the shadow; beyond, mirrors are skipped and counted. */
  maxShadowBacklog: number;
}

export const DEFAULT_GATEWAY_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxInstances: 1000,
  maxQueuedPredictions: 50_000,
  maxShadowBacklog: 10_000,
});

export interface GatewayOptions {
  db: Kysely<Database>;
  /** Where model artifacts are read from (checksums verified). */
  store: Pick<ArtifactStore, 'getBytes'>;
  /**
   * For the connections of its own: the LISTEN that follows deployment changes (pooled connections
   * cannot hold a LISTEN) and the prediction log's COPY.
   */
  databaseUrl: string;
  log?: Logger;
  /** Longest a prediction-log row waits before it is written. Default 100 ms. */
  flushIntervalMs?: number;
  /** Queued prediction-log rows that start a write before the interval is up. Default 64. */
  maxBatch?: number;
  limits?: Partial<GatewayLimits>;
  /** Full deployment refresh interval (the safety net under LISTEN/NOTIFY). Default 30 s. */
  refreshIntervalMs?: number;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly metrics: GatewayMetrics;
  /** Loads every deployment (and follows changes from then on), then listens. Port 0: a free port. */
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  /** The same report as `GET /readyz`. */
  readiness(): Promise<Readiness>;
  /**
   * Stops accepting requests, lets in-flight ones and their shadow mirrors finish, writes
   * the queued prediction log and releases every model session.
   */
  close(): Promise<void>;
}

export function createGateway(options: GatewayOptions): Gateway {
  const log = options.log ?? pino({ level: 'info', base: { service: 'retrain-gateway' } });
  const limits: GatewayLimits = { ...DEFAULT_GATEWAY_LIMITS, ...options.limits };
  const { db } = options;
  const metrics = new GatewayMetrics();
  const sessions = new SessionCache(options.store);
  const router = new DeploymentRouter({ db, sessions, metrics, log });
  const follower = new DeploymentFollower({
    connectionString: options.databaseUrl,
    onChange: (model) => router.request(model),
    log,
    refreshIntervalMs: options.refreshIntervalMs,
  });
  // The log writes one batch at a time, by COPY, on a connection of its own (COPY needs the raw client).
  const logPool = new pg.Pool({ connectionString: options.databaseUrl, max: 1, application_name: 'retrain-gateway-prediction-log' });
  logPool.on('error', (err) => log.warn({ err }, 'prediction log connection lost; the next write reconnects'));
  const predictionLog = new PredictionLog<string>({
    write: (rows) => copyPredictions(logPool, rows),
    log,
    flushIntervalMs: options.flushIntervalMs,
    maxBatch: options.maxBatch,
    capacity: Math.max(limits.maxQueuedPredictions, limits.maxInstances),
    onWritten: (n) => metrics.predictionLogRows.inc({ outcome: 'written' }, n),
    onDropped: (n) => metrics.predictionLogRows.inc({ outcome: 'dropped' }, n),
  });
  metrics.predictionLogQueueSize = () => predictionLog.size;
  const service = new PredictionService({ router, predictionLog, metrics, log, maxShadowBacklog: limits.maxShadowBacklog });
  const health = { db, router, follower, metrics };

  const app = Fastify({ bodyLimit: limits.maxBodyBytes, return503OnClosing: true });
  app.setErrorHandler((err: FastifyError | GatewayRequestError, request, reply) => {
    const status = statusOf(err);
    if (status >= 500 && !(err instanceof GatewayRequestError)) log.error({ err, method: request.method, url: request.url }, 'request failed');
    void reply.code(status).send({ error: describeError(err, limits) });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
  registerPredictRoutes(app, { service, router, metrics, db, maxInstances: limits.maxInstances });
  registerInferenceProtocolRoutes(app, {
    service,
    router,
    metrics,
    maxInstances: limits.maxInstances,
    serverReady: async () => (await checkReadiness(health)).ready,
  });
  registerHealthRoutes(app, health);

  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    async start(port = 0, host = '127.0.0.1') {
      await follower.start();
      await router.idle();
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      log.info({ url, models: router.status() }, 'gateway listening');
      return { url, port: actualPort };
    },
    readiness: () => checkReadiness(health),
    close() {
      closing ??= (async () => {
        await app.close();
        await service.drainShadows();
        await follower.close();
        await router.close();
        await predictionLog.close();
        await logPool.end();
      })();
      return closing;
    },
  };
}

/** The message sent to the client: ours as is, fastify's request errors rephrased to name the limit or the problem. */
function describeError(err: FastifyError | GatewayRequestError, limits: GatewayLimits): string {
  if (err instanceof GatewayRequestError) return err.message;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `request body is larger than the limit of ${limits.maxBodyBytes} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `unsupported content type; send application/json`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty; send a JSON object';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return `request body is not valid JSON: ${err.message}`;
    default:
      if (err instanceof SyntaxError) return `request body is not valid JSON: ${err.message}`;
      return statusOf(err) >= 500 ? 'internal error' : err.message;
  }
}
