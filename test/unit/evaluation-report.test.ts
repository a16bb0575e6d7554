import { describe, expect, it } from 'vitest';
import { EvaluationSpec, GateSpec } from '../../lib/spec/model-spec';
import { renderEvaluationReport } from '../../lib/evaluation/evaluation-report';
import { computeOfflineEvaluation, type OfflineEvaluationSummary } from '../../lib/stats/evaluation-summary';
import { evaluateOfflineGates } from '../../lib/policy/offline-gates';
import { syntheticHoldout } from '../fixtures/synthetic-holdout';

function evaluation(options: { champion: boolean; origins?: string[] }) {
  const { labels, candidate, champion, origin } = syntheticHoldout({ seed: 4, rows: 1200, origins: options.origins, champion: { slope: 0.8, noise: 1 } });
  return computeOfflineEvaluation({
    model: 'flight-delay',
    holdoutDay: '2024-03-15',
    candidateVersion: 8,
    ...(options.champion ? { championVersion: 7, championScores: champion } : {}),
    labels,
    candidateScores: candidate,
    sliceKeys: { origin },
    spec: EvaluationSpec.parse({ slices: [{ name: 'origin', top: 3 }], bootstrapSamples: 100 }),
  });
}

const gateSpec = GateSpec.parse({ minimums: { auc: 0.6 }, maxRegression: { auc: 0.01, f1: 0 }, sliceMaxRegression: { auc: 0.02 }, sliceMinRows: 100 });

/** The text of the element carrying data-metric="key". */
function metricText(html: string, key: string): string | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return html.match(new RegExp(`data-metric="${escaped}"[^>]*>([^<]*)<`))?.[1];
}

describe('renderEvaluationReport', () => {
  const { summary, curves } = evaluation({ champion: true });
  const gates = evaluateOfflineGates(summary, gateSpec);
  const html = renderEvaluationReport({ summary, curves, gates, title: 'flight-delay v8' });

  it('puts every key number in a data-metric element, formatted to 3 decimals', () => {
    expect(metricText(html, 'candidate.auc')).toBe(summary.candidate.auc.toFixed(3));
    expect(metricText(html, 'champion.auc')).toBe(summary.champion!.auc.toFixed(3));
    expect(metricText(html, 'delta.auc')).toMatch(/^[+-]\d\.\d{3}$/);
    expect(Number(metricText(html, 'delta.auc.low'))).toBeCloseTo(summary.deltas!.auc.low, 3);
    expect(Number(metricText(html, 'delta.logLoss.high'))).toBeCloseTo(summary.deltas!.logLoss.high, 3);
    expect(metricText(html, 'slice.origin=ATL.rows')).toBe('400');
    expect(metricText(html, 'slice.origin=ATL.candidate.auc')).toBe(summary.slices.find((s) => s.value === 'ATL')!.candidate.auc.toFixed(3));
    expect(metricText(html, 'rows')).toBe('1,200');
  });

  it('contains the four charts and every gate message', () => {
    for (const chart of ['roc', 'calibration', 'deltas', 'slices']) expect(html).toContain(`data-chart="${chart}"`);
    for (const r of gates.results) expect(html).toContain(r.message.replace(/'/g, '&#39;'));
  });

  it('is self-contained: no scripts, no external resources', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes every text it is given', () => {
    const hostile = evaluation({ champion: true, origins: ['<script>alert(1)</script>', 'A&B', '"quoted"'] });
    const page = renderEvaluationReport({
      summary: { ...hostile.summary, model: '<b>m</b>' },
      curves: hostile.curves,
      gates: evaluateOfflineGates(hostile.summary, gateSpec),
      title: 'x</title><script>alert(2)</script>',
      links: [
        { label: '<i>run</i>', href: 'javascript:alert(3)' },
        { label: 'ui', href: 'https://example.test/a?b=1&c="2"' },
      ],
    });
    expect(page).not.toMatch(/<script|<b>m|<i>run/);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('A&amp;B');
    expect(page).not.toContain('href="javascript:');
    expect(page).toContain('href="https://example.test/a?b=1&amp;c=&quot;2&quot;"');
  });

  it('reads a summary that went through JSON, with undefined numbers as null, showing n/a', () => {
    const stored = JSON.parse(JSON.stringify(summary)) as OfflineEvaluationSummary;
    (stored.candidate as unknown as Record<string, null>).auc = null;
    (stored.deltas!.auc as unknown as Record<string, null>).low = null;
    const page = renderEvaluationReport({ summary: stored, curves, gates: evaluateOfflineGates(stored, gateSpec), title: 't' });
    expect(metricText(page, 'candidate.auc')).toBe('n/a');
    expect(metricText(page, 'delta.auc.low')).toBe('n/a');
    expect(page).toContain('could not be computed');
    expect(page).not.toContain('NaN');
  });

  it('renders a first model without a champion', () => {
    const first = evaluation({ champion: false });
    const page = renderEvaluationReport({ summary: first.summary, curves: first.curves, gates: evaluateOfflineGates(first.summary, gateSpec), title: 'first' });
    expect(page).toContain('no champion yet');
    expect(page).not.toContain('data-metric="champion.auc"');
    expect(page).not.toContain('data-chart="deltas"');
    expect(metricText(page, 'candidate.auc')).toBe(first.summary.candidate.auc.toFixed(3));
  });

  it('renders the same bytes for the same input', () => {
    expect(renderEvaluationReport({ summary, curves, gates, title: 'flight-delay v8' })).toBe(html);
  });
});
