import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluationSpec, GateSpec } from '../../lib/spec/model-spec';
import { formatDifference, formatMetric } from '../../lib/stats/metric-format';
import { renderEvaluationReport } from '../../lib/evaluation/evaluation-report';
import { computeOfflineEvaluation } from '../../lib/stats/evaluation-summary';
import { mulberry32 } from '../../lib/stats/seeded-random';
import { evaluateOfflineGates } from '../../lib/policy/offline-gates';

// The issue asks for a test that renders the report in headless Chromium and checks that the
// key numbers are on the page: this one renders a report from a real computed evaluation.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A holdout day of a flight-delay-like model: the candidate ranks better than the champion. */
function syntheticEvaluation() {
  const random = mulberry32(2024);
  const n = 6000;
  const origins = ['ATL', 'ORD', 'DFW', 'DEN', 'LAX', 'JFK', 'SFO'];
  const labels = new Uint8Array(n);
  const candidate = new Float64Array(n);
  const champion = new Float64Array(n);
  const origin: (string | null)[] = [];
  const carrier: (string | null)[] = [];
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  for (let i = 0; i < n; i++) {
    const o = Math.min(origins.length - 1, Math.floor(-Math.log(1 - random()) * 2.2));
    origin.push(random() < 0.02 ? null : origins[o]!);
    carrier.push(['AA', 'DL', 'UA', 'WN'][Math.floor(random() * 4)]!);
    const x = (random() + random() + random() - 1.5) * 2;
    const hub = o === 2 ? 0.8 : 0;
    labels[i] = random() < sigmoid(1.6 * x - 1 + hub) ? 1 : 0;
    candidate[i] = sigmoid(1.5 * x - 1 + hub * 0.8 + (random() - 0.5) * 0.6);
    champion[i] = sigmoid(1.3 * x - 0.6 + (random() - 0.5) * 1.2);
  }
  const spec = EvaluationSpec.parse({ slices: [{ name: 'origin', top: 5 }, { name: 'carrier', top: 3 }], bootstrapSamples: 300, confidence: 0.95, seed: 7 });
  const { summary, curves } = computeOfflineEvaluation({
    model: 'flight-delay',
    holdoutDay: '2024-03-15',
    candidateVersion: 12,
    championVersion: 11,
    labels,
    candidateScores: candidate,
    championScores: champion,
    sliceKeys: { origin, carrier },
    spec,
  });
  // f1 with no allowed regression: this candidate trades F1 at 0.5 for calibration, so one gate fails.
  const gates = evaluateOfflineGates(summary, GateSpec.parse({ minimums: { auc: 0.6, ece: 0.05 }, maxRegression: { auc: 0.01, logLoss: 0.01, f1: 0 }, sliceMaxRegression: { auc: 0.02 }, sliceMinRows: 300 }));
  return { summary, curves, gates };
}

describe('evaluation report in headless Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evaluation-report-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the key numbers and draws every chart, loading nothing but the file', async () => {
    const { summary, curves, gates } = syntheticEvaluation();
    // Render what a stored evaluation looks like: it went through JSON.
    const stored = JSON.parse(JSON.stringify(summary)) as typeof summary;
    const html = renderEvaluationReport({
      summary: stored,
      curves,
      gates,
      title: 'flight-delay v12 — offline evaluation',
      links: [{ label: 'Temporal run', href: 'http://localhost:8233/namespaces/default/workflows/retrain%2Fflight-delay%2F2024-03-15' }],
    });
    const file = path.join(dir, 'report.html');
    await writeFile(file, html);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(file).href);

    const shown = async (key: string) => {
      const element = page.locator(`[data-metric="${key}"]`);
      expect(await element.count(), key).toBe(1);
      expect(await element.isVisible(), `${key} visible`).toBe(true);
      return (await element.innerText()).trim();
    };
    expect(await shown('candidate.auc')).toBe(formatMetric(summary.candidate.auc));
    expect(await shown('champion.auc')).toBe(formatMetric(summary.champion!.auc));
    expect(await shown('delta.auc')).toBe(formatDifference(summary.deltas!.auc.delta));
    expect(await shown('delta.auc.low')).toBe(formatDifference(summary.deltas!.auc.low));
    expect(await shown('delta.auc.high')).toBe(formatDifference(summary.deltas!.auc.high));
    expect(await shown('headline.candidate.auc')).toBe(formatMetric(summary.candidate.auc));
    expect(summary.deltas!.auc.low).toBeGreaterThan(0); // the synthetic candidate is clearly better

    const slice = summary.slices.find((s) => s.family === 'origin' && s.value === 'ATL')!;
    expect(await shown('slice.origin=ATL.rows')).toBe(slice.rows.toLocaleString('en-US'));
    expect(await shown('slice.origin=ATL.candidate.auc')).toBe(formatMetric(slice.candidate.auc));
    expect(await shown('slice.origin=ATL.champion.auc')).toBe(formatMetric(slice.champion!.auc));
    expect(await shown('slice.origin=ATL.delta.auc')).toBe(formatDifference(slice.deltas!.auc.delta));

    const text = await page.locator('body').innerText();
    expect(text).toContain('candidate v12 vs champion v11');
    expect(text).toContain('gates failed');
    expect(text).toContain('gate maxRegression failed for f1');

    for (const chart of ['roc', 'calibration', 'deltas', 'slices']) {
      const box = await page.locator(`svg[data-chart="${chart}"]`).boundingBox();
      expect(box, chart).not.toBeNull();
      expect(box!.width, chart).toBeGreaterThan(200);
      expect(box!.height, chart).toBeGreaterThan(150);
    }
    // The curves themselves are drawn, not only the axes.
    for (const series of ['candidate', 'champion']) {
      const box = await page.locator(`svg[data-chart="roc"] polyline[data-series="${series}"]`).boundingBox();
      expect(box!.width * box!.height, series).toBeGreaterThan(10_000);
    }
    expect(await page.locator('svg[data-chart="slices"] rect').count()).toBe(2 * summary.slices.length);

    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.screenshot({ path: '/tmp/report.png', fullPage: true });
    await page.close();
  });
});
