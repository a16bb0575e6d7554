import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process with this pid exists (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The argv of a running process, read from /proc (Linux); undefined when unknown or gone. */
export function processCommandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part.length > 0);
  } catch {
    return undefined;
  }
}

export interface StopStaleProcessOptions {
  pid: number;
  /** Decides from the process's argv whether it really is the leftover server (pids get reused). */
  matches: (commandLine: string[]) => boolean;
  signal?: NodeJS.Signals;
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/**
 * Stops a server left running by an earlier run that was killed before it could clean up.
 * Returns true when such a process was found (and is gone now), false when there was none.
 */
export async function stopStaleProcess(options: StopStaleProcessOptions): Promise<boolean> {
  const { pid, matches, signal = 'SIGTERM', timeoutMs = 10_000, log } = options;
  if (pid <= 1 || pid === process.pid || !isProcessAlive(pid)) return false;
  const commandLine = processCommandLine(pid);
  if (!commandLine || !matches(commandLine)) return false;
  log?.(`stopping leftover process ${pid} from an earlier run: ${commandLine.join(' ')}`);
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (isProcessAlive(pid) && Date.now() < killDeadline) await sleep(50);
    if (isProcessAlive(pid)) throw new Error(`leftover process ${pid} survived SIGKILL; stop it by hand`);
  }
  return true;
}
