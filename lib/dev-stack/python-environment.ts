import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const ROOT = path.join(__dirname, '..', '..');

/**
 * The pinned Python environments the project uses, each from a requirements file: the tests'
 * referees (scikit-learn, SciPy, skl2onnx, onnxruntime, pyarrow), the real Label Studio the
 * labeling tests start, and the peers the benchmarks measure against.
 */
export const PYTHON_ENVIRONMENTS = {
  referees: path.join(ROOT, 'examples', 'python-trainer', 'requirements.txt'),
  'label-studio': path.join(ROOT, 'test', 'python', 'label-studio-requirements.txt'),
  /** FastAPI + uvicorn + onnxruntime, the server bench:gateway compares the gateway with. */
  fastapi: path.join(ROOT, 'bench', 'python', 'fastapi-requirements.txt'),
  /** Evidently, the drift monitor bench:drift compares Retrain's with. */
  evidently: path.join(ROOT, 'bench', 'python', 'evidently-requirements.txt'),
} as const satisfies Record<string, string>;

export type PythonEnvironmentName = keyof typeof PYTHON_ENVIRONMENTS;

export interface PythonEnvironment {
  /** The venv's bin directory: put it first on PATH and `python3` is this one. */
  binDir: string;
  dir: string;
  /** True when this call created it. */
  created: boolean;
}

/**
 * A Python virtual environment in `<cacheDir>/python/` with a requirements file installed,
 * made once per (requirements, Python version) and reused afterwards, so no pip step is
 * needed before `npm test` or a benchmark. A half-made one (an interrupted install) is made
 * again. Packages come from PyPI.
 */
export async function preparePythonEnvironment(
  cacheDir: string,
  name: string,
  requirementsFile: string,
  log: (msg: string) => void,
): Promise<PythonEnvironment> {
  const python = await findPython();
  const { stdout: version } = await execFileAsync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']);
  const requirements = await readFile(requirementsFile, 'utf8');
  const key = createHash('sha256').update(`${version.trim()}\n${requirements}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'python', `${name}-${key}`);
  const binDir = path.join(dir, 'bin');
  const done = path.join(dir, '.complete');
  if (existsSync(done)) return { binDir, dir, created: false };

  log(`creating the Python environment '${name}' (Python ${version.trim()}) in ${dir}: pip install -r ${path.relative(ROOT, requirementsFile)} (once; a minute or a few)`);
  await rm(dir, { recursive: true, force: true });
  try {
    await execFileAsync(python, ['-m', 'venv', dir]);
  } catch (err) {
    throw new Error(`cannot create a Python venv with ${python} (${(err as Error).message.split('\n')[0]}): on Debian, run \`sudo apt-get install -y python3-venv\``, { cause: err });
  }
  try {
    await execFileAsync(path.join(binDir, 'pip'), ['install', '--disable-pip-version-check', '--quiet', '-r', requirementsFile], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    throw new Error(`pip could not install ${path.relative(ROOT, requirementsFile)} into ${dir}:\n${stderr.trim().split('\n').slice(-15).join('\n')}`, { cause: err });
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
  throw new Error('Python 3 (3.10 or newer) is needed for the scikit-learn and SciPy referees and Label Studio: on Debian, run `sudo apt-get install -y python3 python3-venv`');
}
