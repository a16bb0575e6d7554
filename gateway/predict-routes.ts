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
  const refused = (err: GatewayRequestError) => metrics.failed(NO_LABEL, err, err.statusCode);
  const refusedFeedback = (err: GatewayRequestError) => metrics.feedbackRequests.inc({ model: NO_LABEL, status: String(err.statusCode) });

  app.post<{ Params: ModelParams }>('/v1/models/:model/predict', apiKeyRouteOptions(deps.authorizer, 'predict', 'model', refused), async (request) => {
    const started = performance.now();
    const { model } = request.params;
    let modelLabel = NO_LABEL;
    try {
      const route = service.route(model);
      modelLabel = model;
      const parsed = parsePredictRequest(request.body, route.validator, deps.maxInstances);
      const outcome = await service.predict(route, parsed);
      const predictions = Array.from(outcome.probabilities, (probability) => ({ probability, label: binaryLabel(probability) }));
      metrics.answered(model, { version: outcome.served.version, role: outcome.role }, (performance.now() - started) / 1000);
      return { model, version: outcome.served.version, role: outcome.role, requestId: parsed.requestId, predictions };
    } catch (err) {
      metrics.failed(modelLabel, err, statusOf(err));
      throw err;
    }
  });

  app.post<{ Params: ModelParams }>('/v1/models/:model/feedback', apiKeyRouteOptions(deps.authorizer, 'feedback', 'model', refusedFeedback), async (request, reply) => {
    const { model } = request.params;
    const deployed = deps.router.models.includes(model);
    try {
      if (!deployed) service.route(model); // throws the 404 naming the model
      const { requestId, label } = parseFeedbackRequest(request.body);
      const recorded = await deps.feedback.record(model, { requestId, label });
      reply.code(recorded ? 202 : 200);
      metrics.feedbackRequests.inc({ model, status: recorded ? '202' : '200' });
      if (recorded) metrics.labels.inc({ model, label: String(label) });
      return { model, requestId, label, recorded };
    } catch (err) {
      metrics.feedbackRequests.inc({ model: deployed ? model : NO_LABEL, status: String(statusOf(err)) });
      throw err;
    }
  });

  app.get('/v1/models', async () => ({ models: deps.router.status() }));
}
