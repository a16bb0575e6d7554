import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The pinned Python packages the tests use as referees (scikit-learn, SciPy, skl2onnx, onnxruntime, pyarrow). */
export const TEST_PYTHON_REQUIREMENTS = path.join(__dirname, '..', '..', 'examples', 'python-trainer', 'requirements.txt');

export interface PythonEnvironment {
  /** The venv's bin directory: first on the tests' PATH, so `python3` is this one. */
  binDir: string;
  dir: string;
  /** True when this call created it. */
  created: boolean;
}

/**
 * A Python virtual environment in the cache directory with the pinned requirements, made once
 * per (requirements, Python version) and reused: `npm test` needs no pip install of its own
 * beforehand. A half-made one (interrupted install) is made again.
 */
export async function preparePythonEnvironment(cacheDir: string, log: (msg: string) => void): Promise<PythonEnvironment> {
  const python = await findPython();
  const { stdout: version } = await execFileAsync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']);
  const requirements = await readFile(TEST_PYTHON_REQUIREMENTS, 'utf8');
  const key = createHash('sha256').update(`${version.trim()}\n${requirements}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'python', `test-${key}`);
  const binDir = path.join(dir, 'bin');
  const done = path.join(dir, '.complete');
  if (existsSync(done)) return { binDir, dir, created: false };

  log(`creating the tests' Python environment (Python ${version.trim()}) in ${dir}: pip install -r ${path.relative(process.cwd(), TEST_PYTHON_REQUIREMENTS)} (about a minute, once)`);
  await rm(dir, { recursive: true, force: true });
  try {
    await execFileAsync(python, ['-m', 'venv', dir]);
  } catch (err) {
    throw new Error(`cannot create a Python venv with ${python} (${(err as Error).message.split('\n')[0]}): on Debian, run \`sudo apt-get install -y python3-venv\``, { cause: err });
  }
  try {
    await execFileAsync(path.join(binDir, 'pip'), ['install', '--disable-pip-version-check', '--quiet', '-r', TEST_PYTHON_REQUIREMENTS], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    throw new Error(`pip could not install the tests' Python packages into ${dir}:\n${stderr.trim().split('\n').slice(-15).join('\n')}`, { cause: err });
  }
  await writeFile(done, `${new Date().toISOString()}\n`);
  return { binDir, dir, created: true };
}

async function findPython(): Promise<string> {
  for (const candidate of [process.env.PYTHON, 'python3']) {
    if (!candidate) continue;
    try {
      await execFileAsync(candidate, ['--version']);
      return candidate;
    } catch {
      // try the next
    }
  }
  throw new Error('npm test needs Python 3 (3.10 or newer) for its scikit-learn and SciPy referees: on Debian, run `sudo apt-get install -y python3 python3-venv`');
}
