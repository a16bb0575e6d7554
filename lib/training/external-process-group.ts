import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a process ended: an exit code, or the signal that killed it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A program started as the leader of its own process group, so that everything it
 * starts (a Python interpreter's worker processes, a shell's children) can be
 * signalled at once with kill(-pgid).
 */
export interface ProcessGroup {
  /** The leader's pid, which is also the group id. */
  readonly pid: number;
  /** Resolves when the leader exits; other members may still run. */
  readonly exited: Promise<ProcessExit>;
  /** Whether any member of the group is still running (zombies do not count). */
  alive(): boolean;
  /**
   * SIGTERM to the whole group, then SIGKILL once `graceMs` has passed with a member
   * still running. Resolves when no member runs, saying what it took.
   */
  terminate(graceMs: number): Promise<'none-running' | 'sigterm' | 'sigkill'>;
}

export interface SpawnProcessGroupOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Open file descriptors the program's stdout and stderr are written to. */
  stdout: number;
  stderr: number;
}

/** Linux: process states are read from /proc (see groupRunning). */
const HAS_PROCFS = existsSync('/proc/self/stat');

/** Groups started here and not yet terminated; killed if this Node process exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A detached group does not die with its parent; a worker that exits (or crashes into
  // process.exit) must not leave trainers running. 'exit' handlers can only be synchronous.
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}

/** Starts `command args` detached (setsid: its own session and process group), stdin closed. */
export async function spawnProcessGroup(command: string, args: readonly string[], options: SpawnProcessGroupOptions): Promise<ProcessGroup> {
  installExitHook();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', options.stdout, options.stderr],
  });
  const exited = new Promise<ProcessExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid!;
  liveGroups.add(pid);

  const group: ProcessGroup = {
    pid,
    exited,
    alive: () => groupRunning(pid),
    async terminate(graceMs) {
      try {
        if (!groupRunning(pid)) return 'none-running';
        signalGroup(pid, 'SIGTERM');
        const deadline = Date.now() + graceMs;
        while (Date.now() < deadline) {
          await sleep(50);
          if (!groupRunning(pid)) return 'sigterm';
        }
        signalGroup(pid, 'SIGKILL');
        // SIGKILL cannot be caught; the wait only covers the kernel tearing processes down.
        for (let i = 0; i < 100 && groupRunning(pid); i++) await sleep(50);
        return 'sigkill';
      } finally {
        liveGroups.delete(pid);
      }
    },
  };
  // The leader's exit does not end the group, but a group found empty after it needs no hook.
  void exited.then(() => {
    if (!groupRunning(pid)) liveGroups.delete(pid);
  });
  return group;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    // ESRCH: nothing left in the group.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Whether a process of group `pgid` runs. On Linux /proc is read so that zombies
 * (exited, not yet reaped by their new parent) count as gone: kill(-pgid, 0) would
 * report them as alive for as long as nobody reaps them.
 */
export function groupRunning(pgid: number): boolean {
  if (!HAS_PROCFS) return kill0(-pgid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while scanning
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = fields;
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

function kill0(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
