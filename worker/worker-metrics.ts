/**
 * A worker process's Prometheus metrics, served by a small HTTP server of its own
 * (RETRAIN_WORKER_METRICS_PORT, `/metrics`): every activity attempt by pipeline stage, with its
 * duration and how it ended, the process's Node metrics, and, on a worker that polls the
 * control queue, the model gauges read from Postgres (lib/monitoring/model-gauges.ts): one
 * control worker per deployment exports them, not every worker of every queue. The Temporal
 * SDK's own metrics come from its exporter on another port (worker-logging.ts).
 */
import type { Kysely } from 'kysely';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ActivityObservation, ActivityObserver } from '../activities';
import type { Database } from '../lib/db/schema';
import { startMetricsServer, type MetricsServer } from '../lib/monitoring/metrics-server';
import { registerModelGauges } from '../lib/monitoring/model-gauges';

/** Activity durations from 5 ms (a bookkeeping write) to an hour (a long training). */
const ACTIVITY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export interface WorkerMetricsOptions {
  /** Set on a worker polling the control queue: the model gauges read it. */
  modelGauges?: { db: Kysely<Database>; windowSeconds: number; refreshIntervalMs?: number } | null;
  /** Told of a scrape that could not be collected, or a reading of the model gauges that failed. */
  log?: (msg: string) => void;
}

export class WorkerMetrics {
  readonly registry = new Registry();

  readonly activityDuration = new Histogram({
    name: 'retrain_worker_activity_duration_seconds',
    help: 'Activity attempts in this worker by pipeline stage, activity and outcome (completed, failed, cancelled), with their duration',
    labelNames: ['stage', 'activity', 'outcome'] as const,
    buckets: ACTIVITY_BUCKETS_SECONDS,
    registers: [this.registry],
  });

  readonly activityFailures = new Counter({
    name: 'retrain_worker_activity_failures_total',
    help: 'Failed activity attempts by pipeline stage, activity and type: a permanent error type (the run fails at once) or retryable (Temporal retries)',
    labelNames: ['stage', 'activity', 'type'] as const,
    registers: [this.registry],
  });

  /** What activities/index.ts reports each attempt to. */
  readonly observeActivity: ActivityObserver = (o: ActivityObservation) => {
    this.activityDuration.observe({ stage: o.stage, activity: o.activity, outcome: o.outcome }, o.seconds);
    if (o.outcome === 'failed') this.activityFailures.inc({ stage: o.stage, activity: o.activity, type: o.errorType ?? 'retryable' });
  };

  private readonly log: ((msg: string) => void) | undefined;

  constructor(options: WorkerMetricsOptions = {}) {
    this.log = options.log;
    collectDefaultMetrics({ register: this.registry, prefix: 'retrain_worker_' });
    if (options.modelGauges) {
      registerModelGauges(this.registry, { ...options.modelGauges, onError: (err) => this.log?.(`could not read the model gauges from Postgres: ${(err as Error).message}`) });
    }
  }

  /** Serves the registry at `http://host:port/metrics` (port 0: a free one). */
  serve(host: string, port: number): Promise<MetricsServer> {
    return startMetricsServer({ registry: this.registry, host, port, onError: (err) => this.log?.(`could not collect the worker metrics: ${(err as Error).message}`) });
  }
}
