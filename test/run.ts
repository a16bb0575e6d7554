/**
 * `npm test`: prepares what the tests need and then runs vitest with the arguments given
 * (`npm test -- --project unit`). It makes the Python referees' virtual environment and the
 * pinned Label Studio's in the cache directory (once each; lib/dev-stack/python-environment.ts); what it cannot install without root (Chromium, Go when the service
 * binaries are not built yet) stops it at once with the command that fixes it. Nothing is
 * skipped for want of a tool.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadEnvironment } from '../lib/config/environment';
import { PYTHON_ENVIRONMENTS, preparePythonEnvironment } from '../lib/dev-stack/python-environment';
import { missingSystemPrerequisites } from './prepare/system-prerequisites';

const log = (msg: string) => process.stderr.write(`[npm test] ${msg}\n`);

async function main(): Promise<number> {
  const missing = missingSystemPrerequisites(process.env);
  if (missing.length > 0) {
    for (const m of missing) log(`missing: ${m.what}\n           fix: ${m.fix}`);
    return 1;
  }
  const { cacheDir } = loadEnvironment();
  const python = await preparePythonEnvironment(cacheDir, 'referees', PYTHON_ENVIRONMENTS.referees, log);
  const labelStudio = await preparePythonEnvironment(cacheDir, 'label-studio', PYTHON_ENVIRONMENTS['label-studio'], log);
  const env = {
    ...process.env,
    // Where the labeling tests find `label-studio` (test/fixtures/label-studio.ts); its own venv, not on PATH.
    RETRAIN_TEST_LABEL_STUDIO_BIN: labelStudio.binDir,
    // `python3` in tests (and in the external trainers they start) is the referees' venv.
    PATH: `${python.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    VIRTUAL_ENV: python.dir,
  };
  const vitest = path.join(__dirname, '..', 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { stdio: 'inherit', env });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log((err as Error).message);
    process.exit(1);
  },
);
