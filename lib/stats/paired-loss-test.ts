/**
 * The canary's comparison of probabilities with the champion's on live labels: per-request log
 * loss and Brier score (squared error), both proper scoring rules, so a model with better
 * probabilities wins on them even where both predict the same label at the decision threshold.
 *
 * Canary and champion answer different requests, so a per-request difference needs a pair: each
 * canary outcome is paired with the first later champion outcome (./arrival-pairing, the pairs
 * of the accuracy test). d_i = loss(canary outcome i) − loss(its champion outcome) then has mean
 * Δ = E[canary loss] − E[champion loss], and a confidence sequence for that mean
 * (./asymptotic-confidence-sequence) gives an interval that stays valid however often the canary
 * is looked at: the canary is judged after every poll, and a fixed-n interval looked at that often
 * would roll back equal canaries far more often than alpha.
 *
 * Why this test: a paired test over the same requests (the shadow's paired bootstrap) is not
 * available, since no request gets both answers; Wald's SPRT needs a parametric model of the
 * differences, which log losses do not have; a betting confidence sequence needs bounded
 * observations, which log loss is not (up to 34.5 nats with the 1e-15 clip). The asymptotic
 * sequence needs only a finite variance.
 *
 * Assumptions: the requests routed to each side come from the same stream (routing by a hash of
 * the routing key, independent of the features and the label) and the pairs are independent and
 * identically distributed. Sticky routing by user makes pairs of one user's requests correlated;
 * with many users that is small. The price of pairing different requests: the variance of d_i is
 * that of two requests' losses, so deciding about small differences takes thousands of pairs
 * (docs/architecture.md, "Live promotion", has the numbers). ROC AUC is not a mean of per-request
 * terms: it is reported for both sides on the paired outcomes, not tested.
 */
import { pairByArrival } from './arrival-pairing';
import { ConfidenceSequence, type ConfidenceSequenceOptions } from './asymptotic-confidence-sequence';
import { rocAuc, rowLogLoss } from './metrics';

/** One labelled prediction with its probability, and when its label arrived (a feedback id: larger is later). */
export interface ScoredOutcome {
  arrival: bigint;
  /** P(positive). */
  probability: number;
  label: 0 | 1;
}

/** A loss of both sides over the pairs, and the confidence sequence's interval for canary − champion at this look. */
export interface SequentialLossDifference {
  canary: number;
  champion: number;
  /** canary − champion: positive is worse for the canary. */
  delta: number;
  /** NaN with fewer than 2 pairs; NaN everywhere when a probability is NaN. */
  low: number;
  high: number;
}

export interface PairedLossTest {
  pairs: number;
  /** The sequence's two-sided error rate: the chance that any look's interval misses Δ. */
  alpha: number;
  logLoss: SequentialLossDifference;
  brier: SequentialLossDifference;
  /** Each side's ROC AUC over its paired outcomes (NaN when they hold one class). */
  auc: { canary: number; champion: number };
}

export function pairedLossTest(canary: readonly ScoredOutcome[], champion: readonly ScoredOutcome[], options: ConfidenceSequenceOptions): PairedLossTest {
  const pairs = pairByArrival(canary, champion);
  const logLoss = new ConfidenceSequence(options);
  const brier = new ConfidenceSequence(options);
  const sums = { canaryLogLoss: 0, championLogLoss: 0, canaryBrier: 0, championBrier: 0 };
  const labels = { canary: new Uint8Array(pairs.length), champion: new Uint8Array(pairs.length) };
  const scores = { canary: new Float64Array(pairs.length), champion: new Float64Array(pairs.length) };
  pairs.forEach(([c, h], i) => {
    const [cLog, hLog] = [rowLogLoss(c.label, c.probability), rowLogLoss(h.label, h.probability)];
    const [cSquare, hSquare] = [(c.probability - c.label) ** 2, (h.probability - h.label) ** 2];
    logLoss.push(cLog - hLog);
    brier.push(cSquare - hSquare);
    sums.canaryLogLoss += cLog;
    sums.championLogLoss += hLog;
    sums.canaryBrier += cSquare;
    sums.championBrier += hSquare;
    labels.canary[i] = c.label;
    labels.champion[i] = h.label;
    scores.canary[i] = c.probability;
    scores.champion[i] = h.probability;
  });
  const n = pairs.length;
  const difference = (sequence: ConfidenceSequence, canarySum: number, championSum: number): SequentialLossDifference => {
    const { mean, low, high } = sequence.bounds();
    return { canary: n === 0 ? NaN : canarySum / n, champion: n === 0 ? NaN : championSum / n, delta: mean, low, high };
  };
  return {
    pairs: n,
    alpha: options.alpha,
    logLoss: difference(logLoss, sums.canaryLogLoss, sums.championLogLoss),
    brier: difference(brier, sums.canaryBrier, sums.championBrier),
    auc: { canary: rocAuc(labels.canary, scores.canary), champion: rocAuc(labels.champion, scores.champion) },
  };
}
