import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startChildProcess } from './child-process';
import { findOnPath, isExecutableFile } from './find-executable';
import { isProcessAlive, processCommandLine } from './stale-process';

/** A service binary that can be built from source with `go install` (no internet needed beyond the Go proxy). */
export interface GoBinarySpec {
  /** Executable name: "temporal". */
  name: string;
  /** Environment variable that may hold an explicit path, for messages: "TEMPORAL_CLI". */
  envVar: string;
  /** Import path of the main package: "github.com/temporalio/cli/cmd/temporal". */
  goPackage: string;
  /** Pinned module version: "v1.5.1". */
  version: string;
}

export interface LocateGoBinaryOptions {
  /** Builds land in `<cacheDir>/bin`, build logs in `<cacheDir>/logs`. */
  cacheDir: string;
  log?: (msg: string) => void;
  /** The explicit path the environment gave (`spec.envVar`, parsed by lib/config/environment). */
  explicitPath?: string | null;
  /** PATH and Go's own variables; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Finds a binary in this order: the explicit path (`$<envVar>`), `PATH`, `<cacheDir>/bin`, the Go bin directories
 * (after waiting for a `go install` of it that is already running), then builds it with
 * `go install <package>@<version>` into `<cacheDir>/bin`. Undefined when absent and Go is missing.
 */
export async function locateGoBinary(spec: GoBinarySpec, options: LocateGoBinaryOptions): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const log = options.log;
  const explicit = options.explicitPath;
  if (explicit) {
    if (isExecutableFile(explicit)) return explicit;
    throw new Error(`${spec.envVar}=${explicit} is not an executable file`);
  }
  const onPath = findOnPath(spec.name, env.PATH);
  if (onPath) return onPath;

  const binDir = path.join(options.cacheDir, 'bin');
  const cached = path.join(binDir, spec.name);
  if (isExecutableFile(cached)) return cached;

  const go = findGo(env);
  if (!go) return undefined;

  await waitForRunningGoInstalls(spec, log);
  const built = (await goBinDirs(go, env)).map((dir) => path.join(dir, spec.name)).find(isExecutableFile);
  if (built) return built;
  if (isExecutableFile(cached)) return cached;

  return installWithLock(go, spec, options.cacheDir, env, log);
}

/** `go` from PATH, else the official tarball's location (often not on a non-login shell's PATH). */
function findGo(env: NodeJS.ProcessEnv): string | undefined {
  const fromPath = findOnPath('go', env.PATH);
  if (fromPath) return fromPath;
  return isExecutableFile('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined;
}

async function goBinDirs(go: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const { stdout } = await promisify(execFile)(go, ['env', 'GOBIN', 'GOPATH'], { env });
  const [gobin = '', gopath = ''] = stdout.split('\n');
  const dirs = gopath
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, 'bin'));
  return gobin.trim() ? [gobin.trim(), ...dirs] : dirs;
}

/** Another shell or test worker may be building the same binary right now: let it finish. */
async function waitForRunningGoInstalls(spec: GoBinarySpec, log?: (msg: string) => void): Promise<void> {
  const pids = runningGoInstalls(spec.goPackage);
  if (pids.length === 0) return;
  log?.(`waiting for a running 'go install ${spec.goPackage}' (pid ${pids.join(', ')}) to finish`);
  while (pids.some(isProcessAlive)) await sleep(1000);
}

function runningGoInstalls(goPackage: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const argv = processCommandLine(pid);
      return !!argv && argv.includes('install') && argv.some((arg) => arg.startsWith(`${goPackage}@`));
    });
}

async function installWithLock(
  go: string,
  spec: GoBinarySpec,
  cacheDir: string,
  env: NodeJS.ProcessEnv,
  log?: (msg: string) => void,
): Promise<string> {
  const binDir = path.join(cacheDir, 'bin');
  const target = path.join(binDir, spec.name);
  mkdirSync(binDir, { recursive: true });
  const lockFile = path.join(binDir, `.${spec.name}.lock`);
  let unknownHolderChecks = 0;
  while (!tryTakeLock(lockFile)) {
    const holder = lockHolder(lockFile);
    if (holder === 'none') continue;
    if (holder === 'unknown' && unknownHolderChecks++ < 50) {
      // Just created by another process that has not written its pid yet.
      await sleep(100);
      continue;
    }
    if (holder !== 'unknown' && holder !== process.pid && isProcessAlive(holder)) {
      log?.(`waiting for process ${holder}, which is building ${spec.name} into ${binDir}`);
      while (isProcessAlive(holder)) await sleep(1000);
      if (isExecutableFile(target)) return target;
    }
    rmSync(lockFile, { force: true });
  }
  try {
    if (isExecutableFile(target)) return target;
    const moduleRef = `${spec.goPackage}@${spec.version}`;
    log?.(`building ${spec.name} with 'go install ${moduleRef}' into ${binDir} (several minutes the first time)`);
    const started = Date.now();
    const build = await startChildProcess({
      name: `go-install-${spec.name}`,
      command: go,
      args: ['install', moduleRef],
      logDir: path.join(cacheDir, 'logs'),
      env: { ...env, GOBIN: binDir },
    });
    const status = await build.exited;
    if (status.code !== 0 || !isExecutableFile(target)) {
      throw new Error(`'go install ${moduleRef}' failed (code ${status.code}); last lines of ${build.logFile}:\n${await build.logTail()}`);
    }
    log?.(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
    return target;
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function tryTakeLock(lockFile: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockFile, 'wx');
  } catch {
    return false;
  }
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  return true;
}

function lockHolder(lockFile: string): number | 'none' | 'unknown' {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    return pid > 0 ? pid : 'unknown';
  } catch {
    return 'none';
  }
}
