import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Label value for requests refused before a model was resolved or a version chosen. */
export const NO_LABEL = 'none';

/** The gateway's Prometheus metrics, in a registry of its own (several gateways can share a process, e.g. in tests). */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** Prediction requests by model, serving role and HTTP status. */
  readonly requests = new Counter({
    name: 'retrain_gateway_requests_total',
    help: 'Prediction requests by model, role (champion, canary; none when refused before routing) and HTTP status',
    labelNames: ['model', 'role', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: 'retrain_gateway_request_duration_seconds',
    help: 'Time from the start of a prediction handler to its answer, by model and role',
    labelNames: ['model', 'role'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Mirrored requests by model and outcome (ok, error). */
  readonly shadowPredictions = new Counter({
    name: 'retrain_gateway_shadow_requests_total',
    help: 'Requests mirrored to the shadow version, by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Read on scrape; the gateway points it at its prediction log. */
  predictionLogQueueSize: () => number = () => 0;

  readonly predictionLogQueue: Gauge = new Gauge({
    name: 'retrain_gateway_prediction_log_queue_rows',
    help: 'Prediction-log rows waiting to be written to Postgres',
    registers: [this.registry],
    collect: (): void => this.predictionLogQueue.set(this.predictionLogQueueSize()),
  });

  readonly predictionLogRows = new Counter({
    name: 'retrain_gateway_prediction_log_rows_total',
    help: 'Prediction-log rows by outcome: written, or dropped (rejected by Postgres as invalid, or refused because the log was full)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly modelSwaps = new Counter({
    name: 'retrain_gateway_model_swaps_total',
    help: 'Routing changes applied per model (a new deployment revision or spec, with every session loaded)',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly modelLoadFailures = new Counter({
    name: 'retrain_gateway_model_load_failures_total',
    help: 'Deployment changes that could not be applied (a version failed to load or does not fit the spec); the previous routing stays',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  readonly deploymentRevision = new Gauge({
    name: 'retrain_gateway_deployment_revision',
    help: 'Deployment revision each model is served at',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'retrain_gateway_' });
  }
}
