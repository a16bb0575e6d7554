/**
 * The shadow's evidence in the run's current details: every check with its verdict and message,
 * the probability metrics on the labelled mirrored requests (log loss, Brier score, ROC AUC of both
 * models with the paired bootstrap interval of the difference, the allowance and the verdict, or
 * why they were not gated), and the agreement of scores (mean and p99 |difference|, KS). An
 * observation recorded before a measurement existed shows it as "not measured".
 */
import type { ShadowCheck, ShadowObservation, ShadowVerdict } from '../policy/shadow-gates';
import type { MetricInterval } from '../policy/live-metric-comparison';
import { resolvedShadowGates, type ShadowSpec } from '../spec/model-spec';
import { formatConfidence, formatCount, formatDifference, formatMetric, formatPValue } from '../stats/metric-format';
import { blocks, escapeText, table } from './markdown';
import { differenceWithInterval } from './offline-evidence';

export interface ShadowEvidence {
  observation: ShadowObservation;
  verdict: ShadowVerdict;
  spec: ShadowSpec;
}

const CHECK_LABELS: Record<ShadowCheck['name'], string> = {
  requests: 'mirrored requests',
  errors: 'candidate errors',
  agreement: 'label agreement (score ≥ 0.5)',
  latencyP99: 'tail latency',
  accuracy: 'accuracy (score ≥ 0.5)',
  logLoss: 'log loss',
  brier: 'Brier score',
  auc: 'ROC AUC',
  scoreAgreement: 'score agreement',
  scoreDistribution: 'score distributions (KS)',
};

export function renderShadowEvidence(evidence: ShadowEvidence): string {
  const { observation, verdict } = evidence;
  const heading = `### Shadow: ${verdict.passed ? 'passed' : 'FAILED'} (${formatCount(observation.requests)} mirrored requests, ${formatCount(observation.labelled.rows)} labelled)`;
  const checks = table(
    ['result', 'check', 'numbers'],
    verdict.checks.map((c) => [c.passed ? 'pass' : '**FAIL**', escapeText(CHECK_LABELS[c.name] ?? c.name), escapeText(c.message)]),
  );
  return blocks(heading, checks, probabilitySection(evidence), scoreSection(observation));
}

function probabilitySection({ observation, verdict, spec }: ShadowEvidence): string {
  const p = observation.labelled.probabilities;
  if (!p) return 'Probability metrics: not measured (an observation recorded before the shadow computed them).';
  const gates = resolvedShadowGates(spec);
  const gated = p.rows >= gates.minProbabilityLabels;
  const ci = `${formatConfidence(p.confidence)} CI`;
  const rows: Array<[string, ShadowCheck['name'], MetricInterval, boolean, number]> = [
    ['log loss', 'logLoss', p.logLoss, false, gates.maxLogLossIncrease],
    ['Brier score', 'brier', p.brier, false, gates.maxBrierIncrease],
    ['ROC AUC', 'auc', p.auc, true, gates.maxAucDrop],
  ];
  const body = rows.map(([label, name, metric, higherIsBetter, allowed]) => {
    const check = verdict.checks.find((c) => c.name === name);
    const result = !gated || !check ? 'not gated' : check.passed ? 'not worse' : '**worse**';
    return [label, higherIsBetter ? 'higher' : 'lower', formatMetric(metric.candidate), formatMetric(metric.champion), differenceWithInterval(metric.delta, metric.low, metric.high), formatDifference(higherIsBetter ? -allowed : allowed), result];
  });
  const note = gated
    ? `Non-inferiority: a metric passes when its interval's worse end is within the allowance.`
    : `Not gated: ${formatCount(p.rows)} labelled requests both models scored, fewer than the ${formatCount(gates.minProbabilityLabels)} the probability gates need (reported only).`;
  return blocks(
    `#### Probability metrics on ${formatCount(p.rows)} labelled requests both models scored (${ci}, paired bootstrap, ${formatCount(p.samples)} resamples)`,
    table(['metric', 'better', 'candidate', 'champion', `difference (${ci})`, 'allowed', 'verdict'], body, ['left', 'left', 'right', 'right', 'left', 'right', 'left']),
    note,
  );
}

function scoreSection(observation: ShadowObservation): string {
  const s = observation.scores;
  if (!s) return 'Score agreement: not measured (an observation recorded before the shadow compared scores).';
  return blocks(
    `#### Scores on ${formatCount(s.pairs)} mirrored requests both models answered`,
    table(
      ['measure', 'value'],
      [
        ['mean \\|candidate − champion\\|', formatMetric(s.meanAbsDifference)],
        ['p99 \\|candidate − champion\\|', formatMetric(s.p99AbsDifference)],
        ['Kolmogorov–Smirnov statistic', formatMetric(s.ks.statistic)],
        ['KS p-value (the same requests: not independent samples)', formatPValue(s.ks.pValue)],
      ],
      ['left', 'right'],
    ),
  );
}
