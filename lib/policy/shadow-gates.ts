import { resolvedShadowGates, type ShadowSpec } from '../spec/model-spec';
import { formatConfidence, formatPValue } from '../stats/metric-format';
import { formatMilliseconds, quantileLabel } from '../stats/tail-quantile';
import { judgeLiveMetric, type MetricInterval } from './live-metric-comparison';

/** What the shadow phase observed; computed from the prediction log and feedback. */
export interface ShadowObservation {
  /** Mirrored requests with both a champion and a candidate prediction. */
  requests: number;
  candidateErrors: number;
  /** Share of paired requests where both predicted the same label; null without requests. */
  agreement: number | null;
  latencyMs: {
    championP50: number | null;
    championP99: number | null;
    candidateP50: number | null;
    candidateP99: number | null;
    /**
     * Each side at `tailQuantile`, the latency quantile the pairs support (see supportedTailQuantile),
     * which the gate compares. Absent in observations recorded before it existed: p99 then.
     */
    championTail?: number | null;
    candidateTail?: number | null;
    tailQuantile?: number;
    /** Request pairs both models scored alone (the latency sample). */
    timedPairs?: number;
  };
  /** Requests whose label arrived, and each model's accuracy on them. */
  labelled: {
    rows: number;
    championAccuracy: number | null;
    candidateAccuracy: number | null;
    /**
     * Probability metrics on the labelled requests both models scored, with the paired bootstrap
     * interval of candidate − champion. Absent in observations recorded before it existed: not measured.
     */
    probabilities?: LabelledProbabilities;
  };
  /** Both models' probabilities on the same mirrored requests. Absent in observations recorded before it existed: not measured. */
  scores?: ScoreComparison;
}

/** The paired bootstrap over labelled mirrored requests (lib/stats/paired-bootstrap.ts). */
export interface LabelledProbabilities {
  /** Labelled requests both models scored. */
  rows: number;
  confidence: number;
  /** Bootstrap replicates drawn (fewer may define a metric: a resample can lack a class for AUC). */
  samples: number;
  logLoss: MetricInterval;
  brier: MetricInterval;
  auc: MetricInterval;
}

/** Agreement on scores, not labels, over the mirrored requests both models answered. */
export interface ScoreComparison {
  pairs: number;
  /** Mean and 99th percentile of |p_candidate − p_champion| (lib/stats/score-agreement.ts). */
  meanAbsDifference: number | null;
  p99AbsDifference: number | null;
  /** Two-sample Kolmogorov–Smirnov test between the champion's and the candidate's probabilities (lib/stats/kolmogorov-smirnov.ts). */
  ks: { statistic: number | null; pValue: number | null };
}

export interface ShadowCheck {
  name: 'requests' | 'errors' | 'agreement' | 'latencyP99' | 'accuracy' | 'logLoss' | 'brier' | 'auc' | 'scoreAgreement' | 'scoreDistribution';
  passed: boolean;
  message: string;
}

export interface ShadowVerdict {
  passed: boolean;
  checks: ShadowCheck[];
  reason: string;
}

const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
const ms = (x: number | null) => (x === null ? 'n/a' : formatMilliseconds(x));

/** Applies the shadow gates of a spec to what the shadow phase observed. Pure: the workflow calls it. */
export function judgeShadow(observed: ShadowObservation, spec: ShadowSpec): ShadowVerdict {
  const checks: ShadowCheck[] = [];
  checks.push({
    name: 'requests',
    passed: observed.requests >= spec.minRequests,
    message: `${observed.requests} mirrored requests (need ${spec.minRequests})`,
  });
  checks.push({
    name: 'errors',
    passed: observed.candidateErrors === 0,
    message: `${observed.candidateErrors} candidate errors on mirrored requests`,
  });
  checks.push({
    name: 'agreement',
    passed: observed.agreement !== null && observed.agreement >= spec.minAgreement,
    message: `agreement with the champion ${f3(observed.agreement)} (need ${spec.minAgreement})`,
  });
  const latency = observed.latencyMs;
  const championTail = latency.championTail !== undefined ? latency.championTail : latency.championP99;
  const candidateTail = latency.candidateTail !== undefined ? latency.candidateTail : latency.candidateP99;
  const ratio = championTail && candidateTail !== null ? candidateTail / championTail : null;
  const sample = latency.timedPairs !== undefined ? ` over ${latency.timedPairs} requests both scored alone` : '';
  checks.push({
    name: 'latencyP99',
    passed: ratio !== null && ratio <= spec.maxLatencyP99Ratio,
    message: `${quantileLabel(latency.tailQuantile ?? 0.99)} latency ${ms(candidateTail)} vs champion ${ms(championTail)}${sample} (ratio ${f3(ratio)}, allowed ${spec.maxLatencyP99Ratio})`,
  });
  const { rows, championAccuracy, candidateAccuracy } = observed.labelled;
  if (rows >= spec.minLabels && championAccuracy !== null && candidateAccuracy !== null) {
    const drop = championAccuracy - candidateAccuracy;
    checks.push({
      name: 'accuracy',
      passed: drop <= spec.maxAccuracyDrop,
      message: `accuracy on ${rows} labelled requests ${f3(candidateAccuracy)} vs champion ${f3(championAccuracy)} (allowed drop ${spec.maxAccuracyDrop})`,
    });
  }
  const { probabilities } = observed.labelled;
  const { minProbabilityLabels } = resolvedShadowGates(spec);
  if (probabilities && probabilities.rows >= minProbabilityLabels) checks.push(...probabilityChecks(probabilities, spec));
  if (observed.scores) checks.push(...scoreChecks(observed.scores, spec));
  const failed = checks.filter((c) => !c.passed);
  const labelNote =
    (rows < spec.minLabels ? `; ${rows} labels so far, accuracy not gated below ${spec.minLabels}` : '') +
    (probabilities && probabilities.rows < minProbabilityLabels
      ? `; ${probabilities.rows} labelled requests both models scored, log loss, Brier score and AUC not gated below ${minProbabilityLabels}`
      : '');
  return {
    passed: failed.length === 0,
    checks,
    reason: failed.length > 0 ? `shadow failed: ${failed.map((c) => c.message).join('; ')}` : `shadow passed: ${checks.map((c) => c.message).join('; ')}${labelNote}`,
  };
}

/**
 * Log loss, Brier score and ROC AUC of the candidate against the champion on the same labelled
 * requests: non-inferiority on the paired bootstrap interval, as the offline maxRegression gates
 * (lib/policy/offline-gates.ts): a check passes when the interval's worse end is within the
 * allowance, so too few labels to tell fail rather than pass.
 */
function probabilityChecks(p: LabelledProbabilities, spec: ShadowSpec): ShadowCheck[] {
  const gates = resolvedShadowGates(spec);
  const common = { interval: `${formatConfidence(p.confidence)} CI`, sample: `on ${p.rows} labelled requests`, worseWhen: 'not-shown-within' as const };
  const metrics: Array<[ShadowCheck['name'], MetricInterval, string, boolean, number]> = [
    ['logLoss', p.logLoss, 'log loss', false, gates.maxLogLossIncrease],
    ['brier', p.brier, 'Brier score', false, gates.maxBrierIncrease],
    ['auc', p.auc, 'ROC AUC', true, gates.maxAucDrop],
  ];
  return metrics.map(([name, metric, label, higherIsBetter, allowed]) => {
    const { outcome, message } = judgeLiveMetric(metric, { ...common, label, higherIsBetter, allowed });
    return { name, passed: outcome === 'not-worse', message };
  });
}

/** Agreement on scores (mean and, when gated, p99 of the absolute difference) and the KS statistic between the score distributions. */
function scoreChecks(scores: ScoreComparison, spec: ShadowSpec): ShadowCheck[] {
  const gates = resolvedShadowGates(spec);
  const on = `on ${scores.pairs} mirrored requests`;
  const { meanAbsDifference: mean, p99AbsDifference: p99 } = scores;
  const p99Gated = gates.maxP99AbsScoreDifference !== null;
  const agreementPassed = mean !== null && mean <= gates.maxMeanAbsScoreDifference && (!p99Gated || (p99 !== null && p99 <= gates.maxP99AbsScoreDifference!));
  const allowed = `allowed mean ${gates.maxMeanAbsScoreDifference}${p99Gated ? `, p99 ${gates.maxP99AbsScoreDifference}` : ''}`;
  const { statistic, pValue } = scores.ks;
  return [
    {
      name: 'scoreAgreement',
      passed: agreementPassed,
      message: `score difference |candidate - champion| ${on}: mean ${f3(mean)}, p99 ${f3(p99)} (${allowed})`,
    },
    {
      name: 'scoreDistribution',
      passed: statistic !== null && statistic <= gates.maxScoreKs,
      message: `score distributions: Kolmogorov-Smirnov statistic ${f3(statistic)} (p ${formatPValue(pValue)}) between the candidate's and the champion's probabilities ${on} (allowed ${gates.maxScoreKs})`,
    },
  ];
}
