/**
 * The gateway's own API:
 * - `POST /v1/models/:model/predict` `{ instance | instances, requestId?, routingKey? }` →
 *   `{ model, version, role, requestId, predictions: [{ probability, label }] }`, label by
 *   lib/stats/decision-threshold (P(positive) ≥ 0.5 is 1); API key scope `predict`
 * - `POST /v1/models/:model/feedback` `{ requestId, label: 0 | 1 }` → 202 when the label is
 *   taken (feedback-service.ts has the rule); API key scope `feedback`
 * - `GET /v1/models`: what is deployed and served.
 */
import type { FastifyInstance } from 'fastify';
import { binaryLabel } from '../lib/stats/decision-threshold';
import { apiKeyRouteOptions, type ApiKeyAuthorizer } from './api-key-auth';
import type { DeploymentRouter } from './deployment-router';
import { statusOf } from './error-response';
import { parseFeedbackRequest } from './feedback-request';
import type { FeedbackService } from './feedback-service';
import { type GatewayMetrics, NO_LABEL } from './gateway-metrics';
import { parsePredictRequest } from './predict-request';
import type { PredictionService } from './prediction-service';
import type { GatewayRequestError } from './request-error';

export interface PredictRoutesDeps {
  service: PredictionService;
  feedback: FeedbackService;
  router: DeploymentRouter;
  metrics: GatewayMetrics;
  authorizer: ApiKeyAuthorizer;
  maxInstances: number;
}

interface ModelParams {
  model: string;
}

export function registerPredictRoutes(app: FastifyInstance, deps: PredictRoutesDeps): void {
  const { service, metrics } = deps;
  const refused = (err: GatewayRequestError) => metrics.requests.inc({ model: NO_LABEL, role: NO_LABEL, status: String(err.statusCode) });

  app.post<{ Params: ModelParams }>('/v1/models/:model/predict', apiKeyRouteOptions(deps.authorizer, 'predict', 'model', refused), async (request) => {
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

  app.post<{ Params: ModelParams }>('/v1/models/:model/feedback', apiKeyRouteOptions(deps.authorizer, 'feedback', 'model', refused), async (request, reply) => {
    const { model } = request.params;
    if (!deps.router.models.includes(model)) service.route(model); // throws the 404 naming the model
    const { requestId, label } = parseFeedbackRequest(request.body);
    const recorded = await deps.feedback.record(model, { requestId, label });
    reply.code(recorded ? 202 : 200);
    return { model, requestId, label, recorded };
  });

  app.get('/v1/models', async () => ({ models: deps.router.status() }));
}
