import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isExecutableFile } from './find-executable';
import { locateGoBinary, type GoBinarySpec } from './go-binary';

/**
 * The Temporal CLI, pinned: later tags carry a `replace` directive in go.mod and cannot be
 * `go install`ed (see DESIGN.md).
 */
export const TEMPORAL_CLI: GoBinarySpec = {
  name: 'temporal',
  envVar: 'TEMPORAL_CLI',
  goPackage: 'github.com/temporalio/cli/cmd/temporal',
  version: 'v1.5.1',
};

export interface LocateTemporalCliOptions {
  cacheDir: string;
  log?: (msg: string) => void;
  /** TEMPORAL_CLI, as parsed by lib/config/environment. */
  explicitPath?: string | null;
  env?: NodeJS.ProcessEnv;
}

/**
 * Path of the `temporal` binary: `TEMPORAL_CLI`, `PATH`, `<cacheDir>/bin/temporal`, Go's bin
 * directories, a `go install` build, and last the SDK's own download (needs internet access).
 */
export async function locateTemporalCli(options: LocateTemporalCliOptions): Promise<string> {
  const local = await locateGoBinary(TEMPORAL_CLI, options);
  if (local) return local;
  options.log?.('no temporal binary and no Go toolchain found; trying the Temporal SDK download (needs internet)');
  try {
    return await downloadWithSdk(path.join(options.cacheDir, 'sdk-download'));
  } catch (err) {
    throw new Error(
      'Temporal CLI not found: set TEMPORAL_CLI, put `temporal` on PATH, or install Go so that ' +
        `'go install ${TEMPORAL_CLI.goPackage}@${TEMPORAL_CLI.version}' can build it ` +
        `(the SDK download failed too: ${(err as Error).message})`,
      { cause: err },
    );
  }
}

/**
 * Lets @temporalio/testing download its pinned CLI into `downloadDir` (it does so only while
 * starting a throwaway dev server), then returns the downloaded executable.
 */
async function downloadWithSdk(downloadDir: string): Promise<string> {
  const existing = newestExecutable(downloadDir);
  if (existing) return existing;
  mkdirSync(downloadDir, { recursive: true });
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await env.teardown();
  const downloaded = newestExecutable(downloadDir);
  if (!downloaded) throw new Error(`the SDK started a server but left no executable in ${downloadDir}`);
  return downloaded;
}

function newestExecutable(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  return names
    .map((name) => path.join(dir, name))
    .filter(isExecutableFile)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}
