/**
 * The inference gateway: serves the deployed versions of every model (champion, canary by
 * weight, shadow mirrored), validates requests against each model's spec and input types,
 * requires API keys on predict, infer and feedback (unless configured open), serves the stored
 * HTML reports at stable links (`/reports/...`, report-routes.ts), serves a request id once, logs every prediction and label to Postgres in batches, in order, and follows
 * deployment changes through LISTEN/NOTIFY. Every error is answered in one shape.
 *
 * @example
 * const gateway = createGateway({ db, store, databaseUrl });
 * const { url } = await gateway.start(8080, '0.0.0.0');
 * // ... later
 * await gateway.close();
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import pg from 'pg';
import { isServingLogStored, writeServingLog, type ServingLogEntry } from '../lib/db/repositories/serving-log';
import type { Database } from '../lib/db/schema';
import type { ArtifactStore } from '../lib/store/artifact-store';
import { ApiKeyAuthorizer, type GatewayAuth } from './api-key-auth';
import { DeploymentFollower } from './deployment-follower';
import { DeploymentRouter } from './deployment-router';
import { errorAnswer, errorBody, statusOf } from './error-response';
import { FeedbackService } from './feedback-service';
import { registerApprovalWaitGauge } from './approval-wait-gauge';
import { GatewayMetrics } from './gateway-metrics';
import { checkReadiness, registerHealthRoutes, type Readiness } from './health-routes';
import { registerInferenceProtocolRoutes } from './inference-protocol-routes';
import { registerLabelingWebhookRoute, type LabelingWebhookOptions } from './labeling-webhook-route';
import { registerPredictRoutes } from './predict-routes';
import { registerReportRoutes } from './report-routes';
import { PredictionLog } from './prediction-log';
import { PredictionService } from './prediction-service';
import { GatewayRequestError } from './request-error';
import { ServedRequests } from './served-requests';
import { SessionCache } from './session-cache';

export interface GatewayLimits {
  /** Largest request body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Most instances (v1) or rows (v2) in one request. */
  maxInstances: number;
  /**
   * Prediction-log entries (prediction rows and labels) held in memory, e.g. while Postgres is
   * down; beyond, requests wait for the database (and get a 503 with Retry-After after 5 s).
   */
  maxQueuedPredictions: number;
  /** Served request ids remembered (with their labels) for 409s and feedback without a database round trip; see served-requests.ts. */
  recentRequestIds: number;
  /** Mirrored requests waiting to be scored by the shadow; beyond, mirrors are skipped and counted. */
  maxShadowBacklog: number;
  /** Largest report `GET /reports/...` serves: it is read whole and verified before it is sent. */
  maxReportBytes: number;
}

export const DEFAULT_GATEWAY_LIMITS: Readonly<GatewayLimits> = Object.freeze({
  maxBodyBytes: 1024 * 1024,
  maxInstances: 1000,
  // About 270 bytes per row (flight-delay): 55 MB; see docs/gateway.md for what outage it covers.
  maxQueuedPredictions: 200_000,
  recentRequestIds: 200_000,
  maxShadowBacklog: 10_000,
  // A flight-delay evaluation report is tens of kB (22 kB without a champion; docs/gateway.md).
  maxReportBytes: 32 * 1024 * 1024,
});

export interface GatewayOptions {
  db: Kysely<Database>;
  /** Where model artifacts and reports are read from (checksums verified). */
  store: Pick<ArtifactStore, 'getBytes'>;
  /**
   * For the connections of its own: the LISTEN that follows deployment changes (pooled connections
   * cannot hold a LISTEN) and the prediction log's COPY.
   */
  databaseUrl: string;
  /** API keys for predict, infer and feedback, or open (no key), which must be asked for explicitly. */
  auth: GatewayAuth;
  log?: Logger;
  /** Longest a prediction-log row waits before it is written. Default 100 ms. */
  flushIntervalMs?: number;
  /** Queued prediction-log rows that start a write before the interval is up. Default 64. */
  maxBatch?: number;
  limits?: Partial<GatewayLimits>;
  /** Full deployment refresh interval (the safety net under LISTEN/NOTIFY). Default 30 s. */
  refreshIntervalMs?: number;
  /** Label Studio's webhook endpoint (labeling-webhook-route.ts); absent: no such route. */
  labelingWebhook?: LabelingWebhookOptions;
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
  registerApprovalWaitGauge(metrics.registry, db, log);
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
  const logConnectionLost = (err: Error) => log.warn({ err }, 'prediction log connection lost; the next write reconnects');
  logPool.on('error', logConnectionLost);
  // Also on the connection while a write holds it (a Postgres shutdown terminates it between statements).
  logPool.on('connect', (client) => client.on('error', logConnectionLost));
  const predictionLog = new PredictionLog<ServingLogEntry>({
    write: (rows) => writeServingLog(logPool, rows),
    isStored: (rows) => isServingLogStored(logPool, rows),
    log,
    flushIntervalMs: options.flushIntervalMs,
    maxBatch: options.maxBatch,
    capacity: Math.max(limits.maxQueuedPredictions, limits.maxInstances),
    onWritten: (n) => metrics.predictionLogRows.inc({ outcome: 'written' }, n),
    // 23505: a request id served before this process remembered it (a restart, another replica); the first row stays.
    onDropped: (n, _reason, err) => metrics.predictionLogRows.inc({ outcome: (err as { code?: string } | undefined)?.code === '23505' ? 'duplicate' : 'dropped' }, n),
  });
  metrics.predictionLogQueueSize = () => predictionLog.size;
  const served = new ServedRequests({ capacity: limits.recentRequestIds, isWritten: (position) => predictionLog.settled >= position });
  const service = new PredictionService({ router, predictionLog, served, metrics, log, maxShadowBacklog: limits.maxShadowBacklog });
  const feedback = new FeedbackService({ db, served, predictionLog });
  const authorizer = new ApiKeyAuthorizer(options.auth);
  const health = { db, router, follower, metrics };

  // Every error answer, the gateway's and fastify's, in the one shape (error-response.ts).
  const sendError = (reply: FastifyReply, err: unknown) => {
    const answer = errorAnswer(err, limits);
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
  const app = Fastify({
    bodyLimit: limits.maxBodyBytes,
    // Requests arriving while close() drains are served (with Connection: close), not refused in fastify's own shape.
    return503OnClosing: false,
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (err, _request, reply) => sendError(reply, err),
    clientErrorHandler: (err, socket) => answerClientError(err, socket),
  });
  // Only JSON is accepted (text/plain would reach the parsers as a string).
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((err, request, reply) => {
    if (statusOf(err) >= 500 && !(err instanceof GatewayRequestError)) log.error({ err, method: request.method, url: request.url }, 'request failed');
    sendError(reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('route_not_found', `no route for ${request.method} ${request.url.split('?')[0]}; see GET /v1/models and docs/gateway.md`));
  });
  const methodsByUrl = collectRouteMethods(app);
  registerPredictRoutes(app, { service, feedback, router, metrics, authorizer, maxInstances: limits.maxInstances });
  registerInferenceProtocolRoutes(app, {
    service,
    router,
    metrics,
    authorizer,
    maxInstances: limits.maxInstances,
    serverReady: async () => (await checkReadiness(health)).ready,
  });
  registerHealthRoutes(app, health);
  registerReportRoutes(app, { db, store: options.store, log, maxReportBytes: limits.maxReportBytes });
  if (options.labelingWebhook) registerLabelingWebhookRoute(app, { db, log, webhook: options.labelingWebhook });
  registerMethodNotAllowed(app, methodsByUrl);

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
      if (authorizer.open) {
        log.warn({ url }, `API keys are not required (auth open): predict, infer and feedback answer anyone who reaches ${host}`);
      } else {
        log.info({ url, keys: authorizer.keyNames }, 'predict, infer and feedback need an API key');
      }
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
        metrics.close();
        await predictionLog.close();
        await logPool.end();
      })();
      return closing;
    },
  };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Records the methods each route URL is registered with (filled as routes are added). */
function collectRouteMethods(app: FastifyInstance): Map<string, Set<string>> {
  const methodsByUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByUrl.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    if (methods.has('GET')) methods.add('HEAD');
    methodsByUrl.set(route.url, methods);
  });
  return methodsByUrl;
}

/** A 405 with Allow, in the gateway's error shape, for the other methods of every route (fastify would answer 404). */
function registerMethodNotAllowed(app: FastifyInstance, methodsByUrl: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [url, methods] of [...methodsByUrl]) {
    const allowed = [...methods].sort();
    const missing = METHODS.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      handler: async (request) => {
        throw new GatewayRequestError(405, 'method_not_allowed', `${request.method} is not allowed on ${url}; allowed: ${allowed.join(', ')}`, { headers: { allow: allowed.join(', ') } });
      },
    });
  }
}

/** Malformed HTTP (before fastify has a request): the same error shape, written to the socket. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, body] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', errorBody('request_timeout', 'the request was not received in time')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', errorBody('headers_too_large', 'the request headers are larger than the server accepts')]
        : [400, 'Bad Request', errorBody('invalid_http', 'the request is not valid HTTP')];
  const text = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${text}`);
  socket.destroy(err);
}
