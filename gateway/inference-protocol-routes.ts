/**
 * Open Inference Protocol (KServe v2 REST) endpoints, so standard clients can call the gateway:
 * server and model readiness, model metadata and `infer` (API key scope `predict`). Errors are
 * `{ "error": ... }` as the protocol specifies, the object of every gateway error
 * (`{ code, message, field? }`, error-response.ts) rather than a bare string.
 */
import type { FastifyInstance } from 'fastify';
import { apiKeyRouteOptions, type ApiKeyAuthorizer } from './api-key-auth';
import type { DeploymentRouter } from './deployment-router';
import { statusOf } from './error-response';
import { type GatewayMetrics, NO_LABEL } from './gateway-metrics';
import { datatypeOf, parseInferRequest, PROBABILITIES_TENSOR } from './infer-request';
import type { PredictionService } from './prediction-service';

export interface InferenceProtocolDeps {
  service: PredictionService;
  router: DeploymentRouter;
  metrics: GatewayMetrics;
  authorizer: ApiKeyAuthorizer;
  maxInstances: number;
  /** Whether the gateway as a whole is ready (database and every model); see readyz. */
  serverReady(): Promise<boolean>;
}

interface NameParams {
  name: string;
}

export const SERVER_NAME = 'retrain-gateway';

export function registerInferenceProtocolRoutes(app: FastifyInstance, deps: InferenceProtocolDeps): void {
  const { service, metrics } = deps;

  app.get('/v2', async () => ({ name: SERVER_NAME, version: '2', extensions: [] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = await deps.serverReady();
    reply.code(ready ? 200 : 503);
    return { ready };
  });

  app.get<{ Params: NameParams }>('/v2/models/:name/ready', async (request) => {
    const route = service.route(request.params.name);
    return { name: route.model, ready: true };
  });

  app.get<{ Params: NameParams }>('/v2/models/:name', async (request) => {
    const route = service.route(request.params.name);
    const versions = [route.champion, route.canary].flatMap((v) => (v ? [String(v.version)] : []));
    return {
      name: route.model,
      versions,
      platform: 'onnx',
      inputs: route.features.map((f) => ({ name: f.name, datatype: datatypeOf(f), shape: [-1, 1] })),
      outputs: [{ name: PROBABILITIES_TENSOR, datatype: 'FP32', shape: [-1, 2] }],
    };
  });

  const refused = (err: { statusCode: number }) => metrics.failed(NO_LABEL, err, err.statusCode);
  app.post<{ Params: NameParams }>('/v2/models/:name/infer', apiKeyRouteOptions(deps.authorizer, 'predict', 'name', refused), async (request) => {
    const started = performance.now();
    const model = request.params.name;
    let modelLabel = NO_LABEL;
    try {
      const route = service.route(model);
      modelLabel = model;
      const parsed = parseInferRequest(request.body, route.validator, deps.maxInstances);
      const outcome = await service.predict(route, parsed);
      const n = outcome.probabilities.length;
      const data = Array.from(outcome.classProbabilities);
      metrics.answered(model, { version: outcome.served.version, role: outcome.role }, (performance.now() - started) / 1000);
      return {
        model_name: model,
        model_version: String(outcome.served.version),
        id: parsed.requestId,
        parameters: { role: outcome.role },
        outputs: [{ name: PROBABILITIES_TENSOR, shape: [n, 2], datatype: 'FP32', data }],
      };
    } catch (err) {
      metrics.failed(modelLabel, err, statusOf(err));
      throw err;
    }
  });
}
