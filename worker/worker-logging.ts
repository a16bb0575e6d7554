import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import pino from 'pino';

export type WorkerLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

const pinoLevel: Record<WorkerLogLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * Routes the Temporal runtime's and workflows' logs through pino (JSON lines on
 * stderr) at the given level. Call once, before the first worker or connection.
 * The runtime does not react to signals itself: the command that runs the
 * workers decides when they stop (and stops the services after them).
 */
export function installWorkerLogging(level: WorkerLogLevel): pino.Logger {
  const logger = pino({ level: pinoLevel[level], base: { service: 'retrain-worker' } }, pino.destination(2));
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(level, (entry: LogEntry) => {
      logger[pinoLevel[entry.level]]({ ...entry.meta }, entry.message);
    }),
  });
  return logger;
}
