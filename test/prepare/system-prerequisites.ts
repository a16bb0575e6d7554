import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** What a machine must have that `npm test` cannot install itself (no root): each with the one command that fixes it. */
export interface MissingPrerequisite {
  what: string;
  fix: string;
}

/**
 * Chromium for the Temporal Web UI tests, Prometheus and promtool for the monitoring tests, and
 * Go to build the Temporal CLI and versitygw when they are not built yet.
 */
export function missingSystemPrerequisites(env: NodeJS.ProcessEnv): MissingPrerequisite[] {
  const missing: MissingPrerequisite[] = [];
  const chromium = env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) missing.push({ what: `Chromium (${chromium}), which drives the Temporal Web UI tests`, fix: 'sudo apt-get install -y chromium   (or set CHROMIUM_PATH)' });
  if (!onPath('prometheus', env) || !onPath('promtool', env)) {
    missing.push({ what: 'Prometheus and promtool, which check the scrape config, alert rules and dashboard queries', fix: 'sudo apt-get install -y prometheus' });
  }
  const built = (name: string, variable: string) => Boolean(env[variable]) || onPath(name, env) || existsSync(`${env.RETRAIN_CACHE_DIR ?? `${env.XDG_CACHE_HOME ?? `${env.HOME}/.cache`}/retrain`}/bin/${name}`);
  if ((!built('temporal', 'TEMPORAL_CLI') || !built('versitygw', 'VERSITYGW_BIN')) && !onPath('go', env) && !existsSync('/usr/local/go/bin/go')) {
    missing.push({ what: 'Go, which builds the Temporal CLI and versitygw once (`go install`)', fix: 'install Go 1.25 or later (https://go.dev/dl), or set TEMPORAL_CLI and VERSITYGW_BIN to built binaries' });
  }
  return missing;
}

function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { env, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
