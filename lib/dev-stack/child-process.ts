import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { stopStaleProcess } from './stale-process';

export interface ChildProcessOptions {
  /** Short name for the log file (`<logDir>/<name>.log`) and for messages: "postgres", "temporal". */
  name: string;
  command: string;
  args: readonly string[];
  logDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (requires root); used for Postgres, which refuses to run as root. */
  uid?: number;
  gid?: number;
  /**
   * Records the pid and command line. A process recorded there by a killed earlier run that
   * still runs is stopped before this one starts (it would hold the same data files).
   */
  pidFile?: string;
  /** Signal asking for a graceful stop; SIGKILL follows after `stopTimeoutMs` (default 10 s). */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A server process whose output goes to a log file. It is killed when this Node process exits;
 * one left behind by a SIGKILLed parent is stopped at the next start through `pidFile`.
 */
export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  /** Rejects, with the log tail, if the process exits before stop() was called; never resolves. */
  readonly unexpectedExit: Promise<never>;
  /** The last lines this run wrote to the log file. */
  logTail(lines?: number): Promise<string>;
  /** Graceful stop, then SIGKILL after the timeout; resolves when the process is gone. */
  stop(): Promise<ExitStatus>;
}

/** Children still running; killed when this Node process exits, however it exits. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill() only sends the signal. Covers process.exit(),
  // uncaught errors and a normal end; SIGINT/SIGTERM handling is up to the caller (see stack.ts).
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * Spawns a server process (not detached, so it shares the parent's process group and a
 * terminal's Ctrl-C reaches it too) with stdout and stderr appended to `<logDir>/<name>.log`.
 */
export async function startChildProcess(options: ChildProcessOptions): Promise<SupervisedProcess> {
  const { name, command, args, logDir, stopSignal = 'SIGTERM', stopTimeoutMs = 10_000, log } = options;
  const commandLine = [command, ...args];
  if (options.pidFile) await stopLeftover(options.pidFile, log);

  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  const logStart = statSync(logFile).size;
  writeFileSync(logFd, `\n=== ${new Date().toISOString()} ${commandLine.join(' ')}\n`);

  installExitHook();
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      detached: false,
      stdio: ['ignore', logFd, logFd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    throw new Error(`could not start ${name} (${command}): ${(err as Error).message}`, { cause: err });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command}): no pid`);
  running.add(child);
  if (options.pidFile) writeFileSync(options.pidFile, JSON.stringify({ pid, commandLine }));

  let stopRequested = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (options.pidFile) rmSync(options.pidFile, { force: true });
      resolve({ code, signal });
    });
  });

  const logTail = async (lines = 40): Promise<string> => readLogTail(logFile, logStart, lines);

  const unexpectedExit = exited.then(async (status): Promise<never> => {
    if (stopRequested) return new Promise<never>(() => undefined);
    const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    throw new Error(`${name} exited unexpectedly (${how}); last lines of ${logFile}:\n${await logTail()}`);
  });
  // A rejection nobody waits for must not crash the parent; callers still see it.
  unexpectedExit.catch(() => undefined);

  const stop = async (): Promise<ExitStatus> => {
    stopRequested = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(stopSignal);
      const timer = setTimeout(() => {
        log?.(`${name} did not stop within ${stopTimeoutMs / 1000} s after ${stopSignal}; sending SIGKILL`);
        child.kill('SIGKILL');
      }, stopTimeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  log?.(`${name} started (pid ${pid}), log: ${logFile}`);
  return { name, pid, logFile, exited, unexpectedExit, logTail, stop };
}

/** Stops the process recorded in `pidFile` if it still runs the recorded command line (pids get reused). */
async function stopLeftover(pidFile: string, log?: (msg: string) => void): Promise<void> {
  let recorded: { pid?: unknown; commandLine?: unknown };
  try {
    recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as typeof recorded;
  } catch {
    return;
  }
  const { pid, commandLine } = recorded;
  if (typeof pid === 'number' && Array.isArray(commandLine)) {
    const expected = commandLine.join('\0');
    await stopStaleProcess({ pid, matches: (actual) => actual.join('\0') === expected, log });
  }
  rmSync(pidFile, { force: true });
}

async function readLogTail(logFile: string, from: number, lines: number): Promise<string> {
  const maxBytes = 64 * 1024;
  const handle = await open(logFile, 'r');
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(from, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}
