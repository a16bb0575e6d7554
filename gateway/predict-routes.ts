/**
 * The gateway's own API:
 * - `POST /v1/models/:model/predict` `{ instance | instances, requestId?, routingKey? }` →
 *   `{ model, version, role, requestId, predictions: [{ probability, label }] }`, label by
 *   lib/stats/decision-threshold (P(positive) ≥ 0.5 is 1)
 * - `POST /v1/models/:model/feedback` `{ requestId, label: 0 | 1 }` records ground truth once
 * - `GET /v1/models`: what is deployed and served.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { insertFeedback } from '../lib/db/repositories/feedback';
import { binaryLabel } from '../lib/stats/decision-threshold';
import type { Database } from '../lib/db/schema';
import type { DeploymentRouter } from './deployment-router';
import { type GatewayMetrics, NO_LABEL } from './gateway-metrics';
import { jsonTypeName } from './instance-validation';
import { ID_RULE, parsePredictRequest, RequestId } from './predict-request';
import type { PredictionService } from './prediction-service';
import { GatewayRequestError } from './request-error';

export interface PredictRoutesDeps {
  service: PredictionService;
  router: DeploymentRouter;
  metrics: GatewayMetrics;
  db: Kysely<Database>;
  maxInstances: number;
}

const FeedbackBody = z.strictObject({ requestId: RequestId, label: z.union([z.literal(0), z.literal(1)]) });

interface ModelParams {
  model: string;
}

/** HTTP status an error is answered with (the gateway's error handler uses the same rule). */
export function statusOf(err: unknown): number {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

export function registerPredictRoutes(app: FastifyInstance, deps: PredictRoutesDeps): void {
  const { service, metrics } = deps;

  app.post<{ Params: ModelParams }>('/v1/models/:model/predict', async (request) => {
    const started = performance.now();
    const { model } = request.params;
    let modelLabel = NO_LABEL;
    let role = NO_LABEL;
    try {
      const route = service.route(model);
      modelLabel = model;
      const parsed = parsePredictRequest(request.body, route.validator, deps.maxInstances);
      const outcome = await service.predict(route, parsed);
      role = outcome.role;
      const predictions = Array.from(outcome.probabilities, (probability) => ({ probability, label: binaryLabel(probability) }));
      metrics.requests.inc({ model, role, status: '200' });
      metrics.requestDuration.observe({ model, role }, (performance.now() - started) / 1000);
      return { model, version: outcome.served.version, role, requestId: parsed.requestId, predictions };
    } catch (err) {
      metrics.requests.inc({ model: modelLabel, role, status: String(statusOf(err)) });
      throw err;
    }
  });

  app.post<{ Params: ModelParams }>('/v1/models/:model/feedback', async (request, reply) => {
    const { model } = request.params;
    if (!deps.router.models.includes(model)) service.route(model); // throws the 404 naming the model
    const parsed = FeedbackBody.safeParse(request.body);
    if (!parsed.success) throw new GatewayRequestError(400, describeFeedbackIssue(parsed.error.issues[0]!, request.body));
    const { requestId, label } = parsed.data;
    const { feedback, created } = await insertFeedback(deps.db, { model, requestId, label });
    if (!created && feedback.label !== label) {
      throw new GatewayRequestError(409, `feedback for request '${requestId}' was already recorded with label ${feedback.label}`);
    }
    reply.code(created ? 201 : 200);
    return { model, requestId, label, recorded: created };
  });

  app.get('/v1/models', async () => ({ models: deps.router.status() }));
}

function describeFeedbackIssue(issue: z.core.$ZodIssue, body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `request body must be a JSON object { requestId, label }, got ${jsonTypeName(body)}`;
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; accepted: requestId, label`;
  const field = String(issue.path[0]);
  const value = (body as Record<string, unknown>)[field];
  if (field === 'label') return value === undefined ? "missing 'label' (0 or 1)" : `'label' must be 0 or 1, got ${JSON.stringify(value)}`;
  if (field === 'requestId') return value === undefined ? "missing 'requestId'" : `'requestId' must be ${ID_RULE}`;
  return `${field}: ${issue.message}`;
}
