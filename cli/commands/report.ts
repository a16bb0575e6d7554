import { spawn } from 'node:child_process';
import { reportsBaseUrlFor, type RetrainEnvironment } from '../../lib/config/environment';
import { findVersionByNumber } from '../../lib/db/repositories/model-versions';
import { findVersionReport } from '../../lib/db/repositories/report-artifacts';
import { ArtifactStore } from '../../lib/store/artifact-store';
import { reportLink } from '../../lib/store/report-links';
import { connectToStack } from '../stack/stack-client';

export interface ReportCommandOptions {
  model: string;
  /** Default: the newest version that has a report. */
  version?: number;
  /** Open the link in the desktop's browser as well. */
  open: boolean;
  /** Print the report's HTML (read from the store, checksum verified) instead of its link. */
  html: boolean;
}

/**
 * `retrain report --model M [--version N] [--open | --html]`: the link to a version's evaluation
 * report (its latest offline evaluation). The link is the gateway's stable URL under
 * RETRAIN_REPORTS_BASE_URL, or under the gateway this command knows (RETRAIN_GATEWAY_URL, or the
 * one `retrain up` recorded); without either, a presigned S3 link valid for 7 days, and a line on
 * stderr says so.
 */
export async function reportCommand(env: RetrainEnvironment, options: ReportCommandOptions): Promise<void> {
  if (options.open && options.html) throw new Error('--open and --html exclude each other: --html prints the report, --open opens its link');
  const stack = await connectToStack(env);
  try {
    const report = await findVersionReport(stack.db, options.model, options.version);
    if (!report) {
      if (options.version !== undefined && !(await findVersionByNumber(stack.db, options.model, options.version))) {
        throw new Error(`model '${options.model}' has no version ${options.version} (retrain status --model ${options.model} lists them)`);
      }
      throw new Error(
        options.version === undefined
          ? `model '${options.model}' has no evaluation report yet: a pipeline run writes one when it evaluates a candidate`
          : `v${options.version} of model '${options.model}' has no evaluation report (a version reused by a run that did not evaluate it, or evaluated before reports were registered)`,
      );
    }
    const store = new ArtifactStore({ client: stack.s3, bucket: stack.connection.s3.bucket });
    if (options.html) {
      process.stdout.write(Buffer.from(await store.getBytes(report)));
      return;
    }
    const link = await reportLink(store, report.key, reportsBaseUrlFor(env, stack.connection.gatewayUrl));
    const against = report.comparatorVersion === null ? 'no comparator (absolute gates only)' : `v${report.comparatorVersion}`;
    process.stderr.write(`[retrain] ${report.model} v${report.version} on ${report.holdoutDay} against ${against}\n`);
    if (!link.stable) {
      process.stderr.write('[retrain] no gateway is known for report links: this is a presigned S3 link, valid for 7 days (set RETRAIN_REPORTS_BASE_URL to the gateway\'s public URL for a link that does not expire)\n');
    }
    process.stdout.write(`${link.url}\n`);
    if (options.open) await openInBrowser(link.url);
  } finally {
    await stack.close();
  }
}

/** Opens a URL with the desktop's opener (xdg-open, open, start); says so when there is none instead of failing. */
async function openInBrowser(url: string): Promise<void> {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  await new Promise<void>((resolve) => {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.once('error', (err) => {
      process.stderr.write(`[retrain] could not open a browser (${command}: ${err.message}): open the link above yourself\n`);
      resolve();
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
