/**
 * Where a person opens a stored report. Reports are served by the gateway at a stable URL,
 * `<base>/reports/<model>/<sha256>.html` (the path is the artifact's key), which does not
 * expire and survives restarts as long as the base does; without a base URL the link is a
 * presigned S3 URL (valid 7 days, S3's limit), which some teams prefer: nothing but S3 serves it.
 */
import type { ArtifactStore } from './artifact-store';

/** The content type every HTML report is stored and served with. */
export const HTML_REPORT_CONTENT_TYPE = 'text/html; charset=utf-8';

/** The URL path the gateway serves a report key at: `/` and the key, each segment percent-encoded. */
export function reportPath(key: string): string {
  return `/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export interface ReportLink {
  url: string;
  /** True for the gateway's stable URL; false for a presigned S3 link, which expires. */
  stable: boolean;
}

/** The link to a report: under `baseUrl` (the gateway's public URL) when there is one, else presigned. */
export async function reportLink(store: Pick<ArtifactStore, 'presignedUrl'>, key: string, baseUrl: string | null): Promise<ReportLink> {
  if (baseUrl) return { url: `${baseUrl.replace(/\/+$/, '')}${reportPath(key)}`, stable: true };
  return { url: await store.presignedUrl(key, undefined, { contentType: HTML_REPORT_CONTENT_TYPE }), stable: false };
}
