import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import pino from 'pino';

export type WorkerLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

const pinoLevel: Record<WorkerLogLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

export interface WorkerRuntimeOptions {
  /**
   * `host:port` where the Temporal SDK's own Prometheus exporter listens (`/metrics`: workflow
   * and activity task latencies, slots, polls, sticky cache...); unset: not exported. Named the
   * Prometheus way: `temporal_` prefix, `_total` counters, durations in seconds with the unit.
   */
  temporalMetricsBindAddress?: string | null;
}

/**
 * Routes the Temporal runtime's and workflows' logs through pino (JSON lines on
 * stderr) at the given level, and exports the SDK's metrics when asked. Call once, before the
 * first worker or connection. The runtime does not react to signals itself: the command that
 * runs the workers decides when they stop (and stops the services after them).
 */
export function installWorkerLogging(level: WorkerLogLevel, options: WorkerRuntimeOptions = {}): pino.Logger {
  const logger = pino({ level: pinoLevel[level], base: { service: 'retrain-worker' } }, pino.destination(2));
  const bindAddress = options.temporalMetricsBindAddress;
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(level, (entry: LogEntry) => {
      logger[pinoLevel[entry.level]]({ ...entry.meta }, entry.message);
    }),
    ...(bindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } } }
      : {}),
  });
  return logger;
}
