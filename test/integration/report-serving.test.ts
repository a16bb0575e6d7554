import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { REPORT_CONTENT_SECURITY_POLICY } from '../../gateway/report-routes';
import { findFreePort } from '../../lib/dev-stack/free-port';
import { createMigrator } from '../../lib/db/migrate';
import { findReportArtifact } from '../../lib/db/repositories/report-artifacts';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { formatMetric } from '../../lib/stats/metric-format';
import { HTML_REPORT_CONTENT_TYPE, reportLink } from '../../lib/store/report-links';
import type { RetrainingPipelineResult } from '../../workflows/definitions';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';

// Issue 10, point 1: a report link opens the report (HTML, not a download), at a Retrain URL that
// does not expire and survives a restart of the gateway; only registered reports are served.
describe('evaluation reports at a stable gateway URL', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;
  let port: number;
  let baseUrl: string;
  let gateway: Gateway;
  let result: RetrainingPipelineResult;

  const startGateway = async () => {
    gateway = createGateway({ db: harness.deps.db, store: harness.deps.store, databaseUrl: harness.databaseUrl, auth: { mode: 'keys', keys: [] }, log: pino({ level: 'silent' }) });
    await gateway.start(port);
  };

  beforeAll(async () => {
    port = await findFreePort();
    baseUrl = `http://127.0.0.1:${port}`;
    harness = await createPipelineHarness('reports', { reportsBaseUrl: baseUrl });
    spec = await flightDelayOnHarness(harness, { name: 'flight-delay-reports', days: { from: '2001-01-02', to: '2001-01-09' } });
    result = await harness.runPipeline({ spec, day: '2001-01-09' });
    await startGateway();
  });

  afterAll(async () => {
    await gateway?.close();
    await harness?.close();
  });

  it("links the run's result to the gateway's URL, which serves the report as HTML with its checksum, without an API key", async () => {
    const report = result.evaluation.report!;
    expect(report.url).toBe(`${baseUrl}/${report.key}`);
    expect(report.key).toMatch(new RegExp(`^reports/${spec.name}/[0-9a-f]{64}\\.html$`));
    const registered = await findReportArtifact(harness.deps.db, report.key);
    expect(registered).toMatchObject({ model: spec.name, kind: 'evaluation', contentType: HTML_REPORT_CONTENT_TYPE, workflowId: result.workflowId });

    // The gateway requires keys for predictions (none are configured here), not for reports.
    const response = await fetch(report.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(HTML_REPORT_CONTENT_TYPE);
    expect(response.headers.get('content-disposition')).toMatch(/^inline/);
    expect(response.headers.get('content-security-policy')).toBe(REPORT_CONTENT_SECURITY_POLICY);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('etag')).toBe(`"${registered!.sha256}"`);
    const html = await response.text();
    expect(html).toContain(`data-metric="candidate.auc">${formatMetric(result.metrics.candidate.auc)}<`);
    process.stderr.write(`[reports] evaluation report: ${Buffer.byteLength(html)} bytes\n`);

    // The object itself is stored as HTML now, so the presigned link opens it too.
    const head = await harness.deps.sourceS3.client.send(new HeadObjectCommand({ Bucket: harness.deps.store.bucket, Key: report.key }));
    expect(head.ContentType).toBe(HTML_REPORT_CONTENT_TYPE);
    const presigned = await reportLink(harness.deps.store, report.key, null);
    expect(presigned.stable).toBe(false);
    const direct = await fetch(presigned.url);
    expect(direct.headers.get('content-type')).toBe(HTML_REPORT_CONTENT_TYPE);
    expect(await direct.text()).toBe(html);

    expect((await fetch(report.url, { headers: { 'if-none-match': `"${registered!.sha256}"` } })).status).toBe(304);
    expect((await fetch(report.url, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves only registered reports: other keys of the bucket, unknown and malformed paths are 404', async () => {
    const notFound = async (path: string) => {
      const response = await fetch(`${baseUrl}${path}`);
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    };
    const model = await notFound(`/reports/../${result.version.artifactKey}`);
    expect(model.status).toBe(404);
    // A real object of the bucket under reports/ that is not registered.
    await harness.deps.store.putBytes(`reports/${spec.name}`, Buffer.from('<p>not a registered report</p>'), '.html', { contentType: HTML_REPORT_CONTENT_TYPE });
    const unregistered = await notFound(`/reports/${spec.name}/${'0'.repeat(64)}.html`);
    expect(unregistered).toMatchObject({ status: 404, body: { error: { code: 'report_not_found' } } });
    expect(unregistered.body.error.message).toContain('retrain report --model');
    expect((await notFound('/reports/%2e%2e/models')).status).toBe(404);
    expect((await notFound(`/reports/${spec.name}`)).status).toBe(404);
  });

  it('the link still works after the gateway restarts, and retrain report prints it', async () => {
    await gateway.close();
    await startGateway();
    const report = result.evaluation.report!;
    const again = await fetch(report.url);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('data-metric="candidate.auc"');

    const printed = await harness.retrain(['report', '--model', spec.name, '--version', String(result.version.version)], { RETRAIN_REPORTS_BASE_URL: baseUrl });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`${report.url}\n`);
    expect(printed.stderr).toContain(`${spec.name} v${result.version.version} on 2001-01-09 against no comparator`);
    const html = await harness.retrain(['report', '--model', spec.name, '--html']);
    expect(html.stdout).toBe(await (await fetch(report.url)).text());
    // No gateway known: a presigned link, and a line saying it expires.
    const presigned = await harness.retrain(['report', '--model', spec.name]);
    expect(presigned.stdout).toMatch(/X-Amz-Expires=604800/);
    expect(presigned.stderr).toContain('presigned S3 link, valid for 7 days');
    expect(await harness.retrain(['report', '--model', spec.name, '--version', '9'])).toMatchObject({ code: 1, stderr: expect.stringContaining(`model '${spec.name}' has no version 9`) });
  });

  it('refuses to serve a report whose object no longer matches its recorded sha256', async () => {
    const report = result.evaluation.report!;
    const s3 = harness.deps.sourceS3.client;
    const original = await (await s3.send(new GetObjectCommand({ Bucket: harness.deps.store.bucket, Key: report.key }))).Body!.transformToByteArray();
    await s3.send(new PutObjectCommand({ Bucket: harness.deps.store.bucket, Key: report.key, Body: Buffer.from('<h1>tampered</h1>'), ContentType: HTML_REPORT_CONTENT_TYPE }));
    try {
      const response = await fetch(report.url);
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('report_corrupt');
      expect(body.error.message).toContain('does not match the sha256 recorded for it');
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: harness.deps.store.bucket, Key: report.key, Body: original, ContentType: HTML_REPORT_CONTENT_TYPE }));
    }
  });

  it('the migration registers the reports of evaluations recorded before it, so their links work too', async () => {
    const migrator = createMigrator(harness.deps.db);
    expect((await migrator.migrateTo('2026-12-01-0301-version-stage-events')).error).toBeUndefined();
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const report = result.evaluation.report!;
    expect(await findReportArtifact(harness.deps.db, report.key)).toMatchObject({ kind: 'evaluation', model: spec.name, contentType: HTML_REPORT_CONTENT_TYPE, workflowId: result.workflowId });
    expect((await fetch(report.url)).status).toBe(200);
  });
});
