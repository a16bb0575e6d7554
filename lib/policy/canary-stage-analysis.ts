import { resolvedCanaryLossGates, type CanarySpec } from '../spec/model-spec';
import { formatConfidence } from '../stats/metric-format';
import type { SprtResult } from '../stats/sequential-probability-ratio-test';
import { formatMilliseconds, quantileLabel } from '../stats/tail-quantile';
import { judgeLiveMetric, type LiveMetricJudgement, type MetricInterval } from './live-metric-comparison';

/** One model's traffic over a stage's window. */
export interface TrafficStats {
  requests: number;
  errors: number;
  latencyP99: number | null;
  /** Latency at the observation's `tailQuantile`, which the gate compares (absent in observations recorded before it existed: p99 then). */
  latencyTail?: number | null;
}

/** What a canary stage observed: the canary and the champion over the same period, and the online-metric test. */
export interface CanaryObservation {
  canary: TrafficStats;
  champion: TrafficStats;
  /**
   * The sequential test on labelled feedback since the canary started; null before any label
   * arrived. With `accuracy` present it runs over discordant pairs (pairedAccuracySprt); in
   * observations recorded before, over the canary's outcomes against the champion's rate.
   */
  sprt: SprtResult | null;
  /** The pairing behind `sprt`: paired labels, discordant pairs, how many favoured the canary, and both accuracies on the pairs. */
  accuracy?: { pairs: number; discordant: number; canaryRight: number; canaryAccuracy: number | null; championAccuracy: number | null } | null;
  /** The latency quantile both sides' samples support (see supportedTailQuantile); 0.99 when absent. */
  tailQuantile?: number;
  /**
   * Log loss and Brier score of the canary against the champion on the same pairs as `accuracy`;
   * null before any label arrived. Absent in observations recorded before it existed: not measured
   * (those stages are judged as they were).
   */
  losses?: CanaryLosses | null;
}

/**
 * Confidence sequences (lib/stats/paired-loss-test.ts) of canary − champion for the mean per-request
 * log loss and Brier score over the pairs; `candidate` is the canary. AUC of each side, reported only.
 */
export interface CanaryLosses {
  pairs: number;
  /** Each sequence covers the true difference at every look with probability 1 − alpha. */
  alpha: number;
  logLoss: MetricInterval;
  brier: MetricInterval;
  auc: { canary: number | null; champion: number | null };
}

export type CanaryVerdict = { verdict: 'pass' | 'fail' | 'wait'; reason: string };

const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
const rate = (s: TrafficStats) => (s.requests === 0 ? 0 : s.errors / s.requests);
const tail = (s: TrafficStats) => (s.latencyTail !== undefined ? s.latencyTail : s.latencyP99);

/**
 * Judges a canary stage. A clear loser fails at once (errors, latency, the
 * SPRT accepting "worse", or a confidence sequence of log loss or Brier score
 * lying wholly above its allowance); a stage passes only when the canary served
 * enough requests, the SPRT accepted "not worse" and both confidence sequences
 * lie at or below their allowances. Anything else waits, and a stage that still
 * waits after `maxBakeSeconds` fails: too little data is never a pass.
 * Observations recorded before the loss test existed are judged without it.
 * Pure: the workflow calls it.
 */
export function judgeCanaryStage(observed: CanaryObservation, spec: CanarySpec, elapsedSeconds: number): CanaryVerdict {
  const { canary, champion, sprt } = observed;
  if (canary.requests >= spec.minRequests) {
    const increase = rate(canary) - rate(champion);
    if (increase > spec.maxErrorRateIncrease) {
      return { verdict: 'fail', reason: `canary error rate ${rate(canary).toFixed(4)} exceeds the champion's ${rate(champion).toFixed(4)} by more than ${spec.maxErrorRateIncrease}` };
    }
    const [canaryTail, championTail] = [tail(canary), tail(champion)];
    if (canaryTail != null && championTail != null && championTail > 0 && canaryTail / championTail > spec.maxLatencyP99Ratio) {
      return {
        verdict: 'fail',
        reason: `canary ${quantileLabel(observed.tailQuantile ?? 0.99)} latency ${formatMilliseconds(canaryTail)} is ${(canaryTail / championTail).toFixed(2)}x the champion's (allowed ${spec.maxLatencyP99Ratio}x)`,
      };
    }
  }
  const { accuracy } = observed;
  const accuracies = accuracy ? `accuracy ${f3(accuracy.canaryAccuracy)} vs the champion's ${f3(accuracy.championAccuracy)} on ${accuracy.pairs} paired labels` : '';
  if (sprt?.decision === 'accept_h1') {
    return {
      verdict: 'fail',
      reason: accuracy
        ? `online accuracy: the sequential test found the canary worse (${accuracies}; the canary was the one right in ${accuracy.canaryRight} of ${accuracy.discordant} pairs where only one was, log LR ${sprt.logLikelihoodRatio.toFixed(2)} >= ${sprt.upperBound.toFixed(2)})`
        : `online accuracy: the sequential test found the canary worse (${sprt.successes}/${sprt.observations} right vs the champion's ${sprt.p0.toFixed(3)}, log LR ${sprt.logLikelihoodRatio.toFixed(2)} >= ${sprt.upperBound.toFixed(2)})`,
    };
  }
  const losses = lossJudgements(observed, spec);
  const worse = losses.find((l) => l.outcome === 'worse');
  if (worse) return { verdict: 'fail', reason: `online ${worse.label}: the sequential test found the canary worse (${worse.message})` };
  const enoughTraffic = canary.requests >= spec.minRequests;
  const notWorse = sprt?.decision === 'accept_h0';
  const lossesNotWorse = losses.every((l) => l.outcome === 'not-worse');
  if (enoughTraffic && notWorse && lossesNotWorse && elapsedSeconds >= spec.bakeSeconds) {
    const auc = observed.losses ? `; ROC AUC ${f3(observed.losses.auc.canary)} vs the champion's ${f3(observed.losses.auc.champion)} (not tested)` : '';
    return {
      verdict: 'pass',
      reason:
        `${canary.requests} canary requests, error rate ${rate(canary).toFixed(4)} vs ${rate(champion).toFixed(4)}, online accuracy not worse (${accuracy ? accuracies : `${sprt.successes}/${sprt.observations} right`})` +
        losses.map((l) => `; ${l.message}`).join('') +
        auc,
    };
  }
  const missing = [
    !enoughTraffic ? `${canary.requests}/${spec.minRequests} canary requests` : null,
    !notWorse ? `online test undecided (${describeUndecided(observed)})` : null,
    ...losses.filter((l) => l.outcome === 'undecided').map((l) => `online ${l.label} undecided (${l.message})`),
    elapsedSeconds < spec.bakeSeconds ? `baking ${Math.round(elapsedSeconds)}/${spec.bakeSeconds} s` : null,
  ].filter((m): m is string => m !== null);
  if (elapsedSeconds >= spec.maxBakeSeconds) {
    return { verdict: 'fail', reason: `no decision after ${spec.maxBakeSeconds} s: ${missing.join(', ')}` };
  }
  return { verdict: 'wait', reason: missing.join(', ') };
}

function describeUndecided({ sprt, accuracy }: CanaryObservation): string {
  if (!sprt) return 'no labels yet';
  if (accuracy) return `${accuracy.pairs} paired labels, ${accuracy.discordant} where only one model was right, log LR ${sprt.logLikelihoodRatio.toFixed(2)}`;
  return `${sprt.observations} labelled outcomes, log LR ${sprt.logLikelihoodRatio.toFixed(2)}`;
}

/**
 * Log loss and Brier score of the canary against the champion on their confidence sequences; none
 * for an observation recorded before they existed. Below `lossTest.minPairs` pairs both are undecided:
 * the sequence's variance must be estimated before its intervals can be trusted.
 */
function lossJudgements(observed: CanaryObservation, spec: CanarySpec): Array<LiveMetricJudgement & { label: string }> {
  if (observed.losses === undefined) return [];
  const gates = resolvedCanaryLossGates(spec);
  const metrics: Array<[string, keyof Pick<CanaryLosses, 'logLoss' | 'brier'>, number]> = [
    ['log loss', 'logLoss', gates.maxLogLossIncrease],
    ['Brier score', 'brier', gates.maxBrierIncrease],
  ];
  const { losses } = observed;
  return metrics.map(([label, key, allowed]) => {
    if (!losses || losses.pairs < gates.lossTest.minPairs) {
      return { label, outcome: 'undecided' as const, message: `${losses?.pairs ?? 0}/${gates.lossTest.minPairs} paired labels` };
    }
    const interval = `${formatConfidence(1 - losses.alpha)} confidence sequence`;
    return { label, ...judgeLiveMetric(losses[key], { label, higherIsBetter: false, allowed, interval, sample: `on ${losses.pairs} paired labels`, worseWhen: 'beyond-allowance' }) };
  });
}
