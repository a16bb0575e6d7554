/**
 * `GET /reports/<model>/<sha256>.html`: Retrain's stable link to a stored HTML report (evaluation
 * reports now; drift and backtest reports register theirs the same way). The path is the
 * artifact's key; only keys registered in `report_artifacts` are served, never an arbitrary key
 * of the bucket, with the content type and sha256 recorded there. The object is read from S3
 * whole and its sha256 checked before the first byte is sent (reports are small, see
 * `maxReportBytes`), so a browser never renders a report that does not match its record.
 *
 * No API key: a browser following a link from the Temporal UI cannot send one. The key names the
 * sha256 of the report's bytes, which nobody can guess without the report itself, so the link is
 * the capability (like a presigned link, but it does not expire). docs/gateway.md says what this
 * means for who can read a report.
 *
 * Reports are self-contained (inline CSS and SVG, no scripts): the Content-Security-Policy header
 * allows nothing else and sandboxes the page, so a report can neither run code on the gateway's
 * origin nor load anything.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import { findReportArtifact, type ReportArtifact } from '../lib/db/repositories/report-artifacts';
import type { Database } from '../lib/db/schema';
import { ArtifactChecksumError, ArtifactNotFoundError, ArtifactTooLargeError } from '../lib/store/artifact-errors';
import type { ArtifactStore } from '../lib/store/artifact-store';
import { GatewayRequestError } from './request-error';

/** What a report page may do: its own inline styles and data: images, nothing else; sandboxed (no scripts, no forms). */
export const REPORT_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox allow-popups allow-popups-to-escape-sandbox";

const REPORT_HEADERS = {
  'content-security-policy': REPORT_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  // The URL is the capability: it must not leak to where a report's links lead.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'x-robots-tag': 'noindex, nofollow',
  // A key names its content: what it serves never changes.
  'cache-control': 'private, max-age=31536000, immutable',
} as const;

/** One path segment of a report key: no empty, `.` or `..` segments, nothing that needs escaping in S3 or a URL. */
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,200}$/;
const ReportPath = z
  .string()
  .max(400, 'is longer than any report key')
  .refine((rest) => rest.split('/').length >= 2 && rest.split('/').every((segment) => SEGMENT.test(segment)), 'is not the path of a report (/reports/<model>/<file>)');

export interface ReportRoutesDeps {
  db: Kysely<Database>;
  store: Pick<ArtifactStore, 'getBytes'>;
  log: Logger;
  /** Largest report served; it is read whole (and verified) before it is sent. */
  maxReportBytes: number;
}

export function registerReportRoutes(app: FastifyInstance, deps: ReportRoutesDeps): void {
  app.get<{ Params: { '*': string } }>('/reports/*', async (request, reply) => {
    const parsed = ReportPath.safeParse(request.params['*']);
    if (!parsed.success) throw notFound(request.url, parsed.error.issues[0]?.message ?? 'is not a report path');
    const key = `reports/${parsed.data}`;
    const report = await lookUp(deps.db, key);
    if (!report) throw notFound(request.url, 'names no registered report');
    const etag = `"${report.sha256}"`;
    void reply.headers(REPORT_HEADERS).header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const bytes = await read(deps, report);
    return reply
      .type(report.contentType)
      .header('content-disposition', `inline; filename="${key.split('/').slice(1).join('-')}"`)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

async function lookUp(db: Kysely<Database>, key: string): Promise<ReportArtifact | undefined> {
  try {
    return await findReportArtifact(db, key);
  } catch (err) {
    throw new GatewayRequestError(503, 'database_unavailable', `the report registry (Postgres) does not answer (${(err as Error).message}); try again shortly`, { retryAfterSeconds: 2 });
  }
}

async function read(deps: ReportRoutesDeps, report: ReportArtifact): Promise<Uint8Array> {
  try {
    return await deps.store.getBytes(report, { maxBytes: deps.maxReportBytes });
  } catch (err) {
    if (err instanceof ArtifactChecksumError) {
      deps.log.error({ err, key: report.key }, 'a stored report does not match its recorded sha256; not served');
      throw new GatewayRequestError(500, 'report_corrupt', `the stored report ${report.key} does not match the sha256 recorded for it and is not served; restore the object or run the evaluation again`);
    }
    if (err instanceof ArtifactNotFoundError) {
      throw new GatewayRequestError(500, 'report_missing', `the report ${report.key} is registered but its object is missing from the artifact store; restore the object or run the evaluation again`);
    }
    if (err instanceof ArtifactTooLargeError) {
      throw new GatewayRequestError(500, 'report_too_large', `the report ${report.key} is ${err.size} bytes, more than the ${deps.maxReportBytes} the gateway serves`);
    }
    throw new GatewayRequestError(503, 'storage_unavailable', `the artifact store (S3) did not answer for report ${report.key} (${(err as Error).message}); try again shortly`, { retryAfterSeconds: 5 });
  }
}

function notFound(url: string, why: string): GatewayRequestError {
  const path = url.split('?')[0];
  return new GatewayRequestError(404, 'report_not_found', `${path} ${why}; \`retrain report --model <model> --version <n>\` prints the link of a version's report`);
}
