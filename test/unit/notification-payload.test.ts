import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../lib/clients/webhook-client';
import { temporalUiRunUrl } from '../../lib/clients/temporal-ui-link';
import { backoffMs, targetLabel } from '../../lib/notification/notification-delivery';
import type { NotificationEvent } from '../../lib/notification/notification-event';
import { JsonNotificationPayload, renderNotification, SlackNotificationPayload } from '../../lib/notification/notification-payload';
import { formatWait } from '../../cli/runs/pending-runs';
import { promotionEvidence } from '../../workflows/promotion-notices';

const event: NotificationEvent = {
  event: 'awaiting-approval',
  key: 'awaiting-approval',
  model: 'flight-delay',
  at: '2026-12-01T10:00:00.000Z',
  title: 'flight-delay v2 is waiting for approval',
  candidateVersion: 2,
  championVersion: 1,
  ...promotionEvidence('all 11 gates passed: candidate AUC 0.612 <vs> champion v1 AUC 0.616\n\n[evaluation report](http://s3.local/report.html?X-Amz=1)', 'shadow passed: agreement 0.990', ['alice', 'bob']),
  detail: 'Send approvePromotion or rejectPromotion from the Temporal UI',
  actor: null,
};
const run = { namespace: 'default', workflowId: 'retrain/flight-delay/2001-01-10', runId: 'r-1', url: temporalUiRunUrl('http://127.0.0.1:8233/', 'default', 'retrain/flight-delay/2001-01-10', 'r-1') };

describe('notification payloads', () => {
  it('links the run in the Temporal UI, its id encoded', () => {
    expect(run.url).toBe('http://127.0.0.1:8233/namespaces/default/workflows/retrain%2Fflight-delay%2F2001-01-10/r-1/history');
    expect(temporalUiRunUrl(null, 'default', 'x', 'y')).toBeNull();
  });

  it('takes the offline decision line and the report link from the offline summary', () => {
    expect(event.evidence).toEqual({ offline: 'all 11 gates passed: candidate AUC 0.612 <vs> champion v1 AUC 0.616', shadow: 'shadow passed: agreement 0.990', approvers: ['alice', 'bob'] });
    expect(event.links).toEqual({ report: 'http://s3.local/report.html?X-Amz=1' });
  });

  it('json: the event, its evidence and the run, as the schema says', () => {
    const body = JsonNotificationPayload.parse(JSON.parse(renderNotification('json', event, run)));
    expect(body).toMatchObject({ schema: 'retrain.notification/v1', event: 'awaiting-approval', model: 'flight-delay', candidateVersion: 2, run: { workflowId: run.workflowId, url: run.url }, evidence: { approvers: ['alice', 'bob'] } });
  });

  it('slack: a header, the detail, the evidence with Slack characters escaped, and the links', () => {
    const body = SlackNotificationPayload.parse(JSON.parse(renderNotification('slack', event, run)));
    expect(body.text).toBe(`flight-delay v2 is waiting for approval: ${run.url}`);
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    const texts = JSON.stringify(body.blocks);
    expect(texts).toContain('*Offline:* all 11 gates passed: candidate AUC 0.612 &lt;vs&gt; champion v1 AUC 0.616');
    expect(texts).toContain('*Who may decide:* alice, bob');
    expect(texts).toContain(`<${run.url}|Open the run in the Temporal UI>`);
    expect(texts).toContain('<http://s3.local/report.html?X-Amz=1|evaluation report>');
  });

  it('names a target without its URL, and backs off 1 s doubling to the cap, or as Retry-After asks', () => {
    const label = targetLabel({ url: 'https://hooks.slack.com/services/T0/B0/t0ken', format: 'slack' });
    expect(label).toMatch(/^slack https:\/\/hooks\.slack\.com #[0-9a-f]{12}$/);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n, null, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffMs(1, 5, 1000, 30_000)).toBe(5000);
    expect(backoffMs(1, 3600, 1000, 30_000)).toBe(30_000);
  });

  it('formats how long a run has waited', () => {
    expect([null, 45, 720, 3 * 3600 + 300, 50 * 3600].map(formatWait)).toEqual(['?', '45 s', '12 min', '3 h 05 min', '2 d 2 h']);
  });
});

describe('postWebhook against a real HTTP server', () => {
  let url: string;
  const received: string[] = [];
  const answers: Array<(res: ServerResponse) => void> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(`${req.method} ${req.headers['content-type']} ${body}`);
      (answers.shift() ?? ((r) => r.end('ok')))(res);
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports the status, the start of an error body, Retry-After, and no answer without throwing', async () => {
    expect(await postWebhook(url, '{"a":1}', { timeoutMs: 2000 })).toMatchObject({ status: 200, error: null });
    expect(received.at(-1)).toBe('POST application/json {"a":1}');
    answers.push((res) => res.writeHead(503, { 'retry-after': '7' }).end('no_service'));
    expect(await postWebhook(url, '{}', { timeoutMs: 2000 })).toMatchObject({ status: 503, retryAfterSeconds: 7, error: 'HTTP 503: no_service' });
    answers.push((res) => res.writeHead(302, { location: 'http://elsewhere.example/' }).end());
    expect(await postWebhook(url, '{}', { timeoutMs: 2000 })).toMatchObject({ status: 302 });
    answers.push(() => undefined);
    expect(await postWebhook(url, '{}', { timeoutMs: 200 })).toMatchObject({ status: null, error: 'no answer within 200 ms' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await postWebhook(`http://127.0.0.1:${port}/hook`, '{}', { timeoutMs: 2000 })).toMatchObject({ status: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });
});
