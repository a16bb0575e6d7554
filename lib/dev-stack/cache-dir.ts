import os from 'node:os';
import path from 'node:path';

/**
 * Where built service binaries (Temporal CLI, versitygw) are kept across checkouts:
 * `RETRAIN_CACHE_DIR`, else `$XDG_CACHE_HOME/retrain`, else `~/.cache/retrain`. `.ci/run` uses the same place.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RETRAIN_CACHE_DIR) return path.resolve(env.RETRAIN_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'retrain');
}
