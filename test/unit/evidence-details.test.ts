import { describe, expect, it } from 'vitest';
import { renderCanaryEvidence, type CanaryProgress } from '../../lib/evidence/canary-evidence';
import { escapeText, table } from '../../lib/evidence/markdown';
import { differenceVerdict, renderOfflineEvidence } from '../../lib/evidence/offline-evidence';
import { renderRunDetails, type RunEvidence } from '../../lib/evidence/run-details';
import { renderShadowEvidence } from '../../lib/evidence/shadow-evidence';
import { judgeCanaryStage, type CanaryObservation } from '../../lib/policy/canary-stage-analysis';
import { evaluateOfflineGates } from '../../lib/policy/offline-gates';
import { judgeShadow, type ShadowObservation } from '../../lib/policy/shadow-gates';
import { CanarySpec, GateSpec, ShadowSpec } from '../../lib/spec/model-spec';
import type { OfflineEvaluationSummary } from '../../lib/stats/evaluation-summary';

// The numbers of issue 10's run: Current Details said "all 11 gates passed" while the candidate was
// significantly worse on AUC, PR AUC, F1 and calibration.
const metrics = (m: Record<string, number>) => ({ rows: 17_000, positiveRate: 0.235, auc: 0, prAuc: 0, logLoss: 0, accuracy: 0, f1: 0, brier: 0, ece: 0, ...m });
const delta = (d: number, low: number, high: number) => ({ delta: d, low, high });
const summary: OfflineEvaluationSummary = {
  model: 'flight-delay',
  holdoutDay: '2001-01-10',
  rows: 17_000,
  candidateVersion: 2,
  championVersion: 1,
  confidence: 0.95,
  bootstrapSamples: 300,
  candidate: metrics({ auc: 0.612, prAuc: 0.301, logLoss: 0.512, accuracy: 0.765, f1: 0.045, brier: 0.171, ece: 0.041 }),
  champion: metrics({ auc: 0.616, prAuc: 0.309, logLoss: 0.509, accuracy: 0.766, f1: 0.073, brier: 0.17, ece: 0.025 }),
  deltas: {
    auc: delta(-0.004, -0.007, -0.002),
    prAuc: delta(-0.008, -0.012, -0.004),
    logLoss: delta(0.003, 0.001, 0.005),
    accuracy: delta(-0.001, -0.004, 0.002),
    f1: delta(-0.028, -0.036, -0.02),
    brier: delta(0.001, 0.0, 0.002),
    // Stored as JSON: a metric that could not be computed arrives as null.
    ece: { delta: 0.016, low: null as unknown as number, high: null as unknown as number },
  },
  slices: [],
};
const gates = evaluateOfflineGates(summary, GateSpec.parse({ minimums: { auc: 0.6 }, maxRegression: { auc: 0.01, logLoss: 0.01 } })).results;
const offline = { summary, gates, verdict: 'all 3 gates passed: candidate AUC 0.612, champion v1 AUC 0.616', report: { url: 'https://retrain.example.com/reports/flight-delay/abc.html' } };

const interval = (candidate: number, champion: number, low: number, high: number) => ({ candidate, champion, delta: candidate - champion, low, high });
const shadowSpec = ShadowSpec.parse({ minRequests: 500, minLabels: 100 });
const observation: ShadowObservation = {
  requests: 1834,
  candidateErrors: 0,
  agreement: 0.975,
  latencyMs: { championP50: 0.4, championP99: 1.2, candidateP50: 0.4, candidateP99: 1.3, championTail: 1.2, candidateTail: 1.3, tailQuantile: 0.99, timedPairs: 1500 },
  labelled: {
    rows: 611,
    championAccuracy: 0.849,
    candidateAccuracy: 0.848,
    probabilities: { rows: 611, confidence: 0.95, samples: 1000, logLoss: interval(0.445, 0.408, 0.019, 0.053), brier: interval(0.131, 0.119, 0.005, 0.018), auc: interval(0.548, 0.715, -0.247, -0.088) },
  },
  scores: { pairs: 1834, meanAbsDifference: 0.087, p99AbsDifference: 0.34, ks: { statistic: 0.396, pValue: 2.5e-56 } },
};
const shadow = { observation, verdict: judgeShadow(observation, shadowSpec), spec: shadowSpec };

/** The rows of the Markdown table whose first cell is `first`, split into cells. */
const rowOf = (markdown: string, first: string) =>
  markdown
    .split('\n')
    .find((line) => line.startsWith(`| ${first} |`))
    ?.split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((cell) => cell.trim());

describe('offline evidence', () => {
  const markdown = renderOfflineEvidence(offline);

  it('shows every metric of both models, the difference with its interval, and what the interval says', () => {
    expect(rowOf(markdown, 'ROC AUC')).toEqual(['ROC AUC', 'higher', '0.612', '0.616', '-0.004 (-0.007..-0.002)', '**worse**']);
    expect(rowOf(markdown, 'PR AUC (average precision)')).toEqual(['PR AUC (average precision)', 'higher', '0.301', '0.309', '-0.008 (-0.012..-0.004)', '**worse**']);
    expect(rowOf(markdown, 'Accuracy (score ≥ 0.5)')?.slice(4)).toEqual(['-0.001 (-0.004..+0.002)', 'no clear difference']);
    expect(rowOf(markdown, 'F1 (score ≥ 0.5)')?.slice(2)).toEqual(['0.045', '0.073', '-0.028 (-0.036..-0.020)', '**worse**']);
    expect(rowOf(markdown, 'Log loss')?.slice(4)).toEqual(['+0.003 (+0.001..+0.005)', '**worse**']);
    expect(rowOf(markdown, 'Brier score')?.slice(4)).toEqual(['+0.001 (0.000..+0.002)', 'no clear difference']);
    expect(rowOf(markdown, 'Expected calibration error (10 bins)')?.slice(4)).toEqual(['+0.016 (n/a..n/a)', 'n/a']);
    expect(markdown).toContain('[Evaluation report](https://retrain.example.com/reports/flight-delay/abc.html)');
    expect(markdown).toContain('all 3 gates passed');
  });

  it('lists every gate with its numbers and rule', () => {
    expect(rowOf(markdown, 'pass')).toEqual(['pass', 'minimum', 'ROC AUC', 'candidate 0.612', '≥ 0.600']);
    const lines = markdown.split('\n').filter((l) => l.startsWith('| pass | maxRegression'));
    expect(lines).toEqual(['| pass | maxRegression | ROC AUC | -0.004 (-0.007..-0.002) | worse end ≥ -0.010 |', '| pass | maxRegression | Log loss | +0.003 (+0.001..+0.005) | worse end ≤ +0.010 |']);
  });

  it('without a champion shows the candidate alone and says so', () => {
    const alone = renderOfflineEvidence({ ...offline, summary: { ...summary, champion: null, championVersion: null, deltas: null }, gates: gates.slice(0, 1), comparisonNote: 'champion v3 learned from 2001-01-10' });
    expect(alone).toContain('compared with no model (absolute gates only)');
    expect(rowOf(alone, 'ROC AUC')).toEqual(['ROC AUC', 'higher', '0.612']);
    expect(alone).toContain('> champion v3 learned from 2001-01-10');
  });

  it('orients verdicts by the better direction', () => {
    expect(differenceVerdict(0.001, 0.004, true)).toBe('better');
    expect(differenceVerdict(0.001, 0.004, false)).toBe('worse');
    expect(differenceVerdict(-0.004, -0.001, false)).toBe('better');
    expect(differenceVerdict(-0.001, 0.001, true)).toBe('no clear difference');
    expect(differenceVerdict(null, 0.1, true)).toBe('n/a');
  });
});

describe('shadow evidence', () => {
  const markdown = renderShadowEvidence(shadow);

  it('shows every check and the probability metrics with their intervals, allowances and verdicts', () => {
    expect(markdown).toContain('### Shadow: FAILED (1,834 mirrored requests, 611 labelled)');
    for (const check of shadow.verdict.checks) expect(markdown).toContain(escapeText(check.message));
    expect(rowOf(markdown, 'log loss')).toEqual(['log loss', 'lower', '0.445', '0.408', '+0.037 (+0.019..+0.053)', '+0.020', '**worse**']);
    expect(rowOf(markdown, 'Brier score')).toEqual(['Brier score', 'lower', '0.131', '0.119', '+0.012 (+0.005..+0.018)', '+0.010', '**worse**']);
    expect(rowOf(markdown, 'ROC AUC')).toEqual(['ROC AUC', 'higher', '0.548', '0.715', '-0.167 (-0.247..-0.088)', '-0.050', '**worse**']);
    expect(rowOf(markdown, 'Kolmogorov–Smirnov statistic')).toEqual(['Kolmogorov–Smirnov statistic', '0.396']);
    expect(markdown).toContain('| mean \\|candidate − champion\\| | 0.087 |');
  });

  it('says when the probability metrics were reported but not gated, or not measured at all', () => {
    const few: ShadowObservation = { ...observation, labelled: { ...observation.labelled, rows: 120, probabilities: { ...observation.labelled.probabilities!, rows: 120 } } };
    const reported = renderShadowEvidence({ observation: few, verdict: judgeShadow(few, shadowSpec), spec: shadowSpec });
    expect(rowOf(reported, 'log loss')?.at(-1)).toBe('not gated');
    expect(reported).toContain('Not gated: 120 labelled requests both models scored, fewer than the 300 the probability gates need');
    const old: ShadowObservation = { ...observation, labelled: { rows: 0, championAccuracy: null, candidateAccuracy: null }, scores: undefined };
    expect(renderShadowEvidence({ observation: old, verdict: judgeShadow(old, shadowSpec), spec: shadowSpec })).toMatch(/Probability metrics: not measured[\s\S]*Score agreement: not measured/);
  });
});

describe('canary evidence', () => {
  const spec = CanarySpec.parse({ stages: [5, 50, 100], bakeSeconds: 300, maxBakeSeconds: 3600, minRequests: 100 });
  const observed: CanaryObservation = {
    canary: { requests: 60, errors: 0, latencyP99: 1.2, latencyTail: 1.1 },
    champion: { requests: 1140, errors: 0, latencyP99: 1.1, latencyTail: 1.0 },
    sprt: null,
    accuracy: null,
    tailQuantile: 0.967,
    losses: null,
  };
  const waiting = judgeCanaryStage(observed, spec, 120);
  const progress: CanaryProgress = {
    candidateVersion: 2,
    championVersion: 1,
    plan: spec.stages,
    bakeSeconds: spec.bakeSeconds,
    maxBakeSeconds: spec.maxBakeSeconds,
    stages: [{ percent: 5, verdict: 'pass', reason: '412 canary requests, error rate 0.0000 vs 0.0000', observation: null }],
    current: { stage: 2, percent: 50, startedAt: '2026-12-01T10:00:00.000Z', elapsedSeconds: 120, analysis: { ...waiting, at: '2026-12-01T10:02:00.000Z' }, observation: observed },
  };

  it('shows the stage, the share, the bake time left and every analysis', () => {
    const markdown = renderCanaryEvidence(progress);
    expect(markdown).toContain('### Canary: stage 2 of 3, 50% of traffic on v2');
    expect(markdown).toContain('baking: 120 of 300 s, 180 s left; a stage still undecided after 3600 s fails');
    expect(markdown).toContain(`Latest analysis (2026-12-01 10:02:00 UTC): **wait**: ${escapeText(waiting.reason)}`);
    expect(rowOf(markdown, '1')).toEqual(['1', '5%', 'pass', '412 canary requests, error rate 0.0000 vs 0.0000']);
    expect(rowOf(markdown, '2')).toEqual(['2', '50%', 'wait', escapeText(waiting.reason)]);
    expect(rowOf(markdown, '3')).toEqual(['3', '100%', '-', 'all traffic: the candidate becomes the champion']);
    expect(rowOf(markdown, 'p96.7 latency')).toEqual(['p96.7 latency', '1.10 ms', '1.00 ms', '']);
  });

  it('once ended, shows the outcome and every stage', () => {
    const ended = renderCanaryEvidence({ ...progress, current: null, stages: [...progress.stages, { percent: 50, verdict: 'rollback', reason: 'rollback requested by bob: pager', observation: observed }], outcome: { outcome: 'rolled_back', reason: 'rollback requested by bob: pager' } });
    expect(ended).toContain('### Canary: rolled back: all traffic is on champion v1');
    expect(rowOf(ended, '2')).toEqual(['2', '50%', '**rollback**', 'rollback requested by bob: pager']);
  });
});

describe('the run details', () => {
  const waiting: RunEvidence = {
    model: 'flight-delay',
    day: '2001-01-10',
    stage: 'awaiting-approval',
    message: 'waiting for approvePromotion or rejectPromotion from alice, bob',
    candidateVersion: 2,
    offline,
    shadow: { ...shadow, verdict: { ...shadow.verdict, passed: true } },
    approval: { approvers: 'Approvers: alice, bob. (The model\'s approver policy, revision 1; read again every 600 s.)', note: '' },
  };

  it('while waiting: how to decide, who may, and the offline and shadow evidence', () => {
    const markdown = renderRunDetails(waiting);
    expect(markdown.startsWith('## flight-delay v2 is waiting for approval')).toBe(true);
    expect(markdown).toContain('Send the **approvePromotion** or **rejectPromotion** Update');
    expect(markdown).toContain('Approvers: alice, bob.');
    expect(markdown).toContain(renderOfflineEvidence(offline));
    expect(markdown).toContain('#### Probability metrics on 611 labelled requests');
  });

  it('after the decision: all of it, and who decided, when and why; the reason as typed', () => {
    const decided: RunEvidence = {
      ...waiting,
      stage: 'done',
      message: 'promote v2: approved by alice; canary passed 2 stages (5%, 50%)',
      approval: { ...waiting.approval!, decision: { action: 'approve', approver: 'alice', reason: 'looks good | *ship* it <script>', at: '2026-12-01T10:30:00.123Z' } },
      outcome: { decision: 'promote', reason: 'approved by alice; canary passed 2 stages (5%, 50%)' },
    };
    const markdown = renderRunDetails(decided);
    expect(markdown.startsWith('## flight-delay v2: promoted')).toBe(true);
    expect(markdown).toContain('**Approved by alice** at 2026-12-01 10:30:00 UTC: looks good \\| \\*ship\\* it \\<script\\>.');
    expect(markdown).not.toContain('Send the **approvePromotion**');
    expect(markdown).toContain(renderOfflineEvidence(offline));
    expect(markdown).toContain(renderShadowEvidence(decided.shadow!));
  });

  it('before any evidence, the stage and what it does', () => {
    expect(renderRunDetails({ model: 'flight-delay', day: '2001-01-10', stage: 'train', message: 'fine-tuning: every 7th run is from scratch' })).toBe(
      '## flight-delay: train\n\nRun of **flight-delay** for **2001-01-10** · stage `train`: fine-tuning: every 7th run is from scratch',
    );
  });
});

describe('markdown', () => {
  it('escapes what would break a table or add markup, and keeps tables aligned', () => {
    expect(escapeText('a|b *c* [d](e) <f>\nnext')).toBe('a\\|b \\*c\\* \\[d\\](e) \\<f\\> next');
    expect(table(['a', 'b'], [['1', '']], ['left', 'right'])).toBe('| a | b |\n| --- | ---: |\n| 1 |   |');
  });
});
