/**
 * Sequential comparison of two models' accuracy on live traffic when neither accuracy is known
 * in advance: Wald's test for two binomial proportions by pairing.
 *
 * Each labelled outcome of the canary is paired with the first unpaired outcome of the champion
 * whose label arrived after it (./arrival-pairing). Only discordant pairs (one model right, the
 * other wrong) carry information. Under H0, equal accuracy, a discordant pair favours the canary with probability
 * 1/2 whatever that accuracy is, so the false-alarm rate holds without estimating it. Under H1,
 * the canary less accurate by `minEffect`, the probability is
 *   q1 = pc(1 − ph) / (pc(1 − ph) + ph(1 − pc)),  pc = ph − minEffect,
 * where ph, the champion's observed accuracy, only places the alternative: it affects the
 * test's power, not its validity. Wald's SPRT then runs over the discordant pairs in the order
 * their labels arrived. New labels only append pairs, so each look continues the same test.
 */
import { pairByArrival } from './arrival-pairing';
import { bernoulliSprt, type SprtResult } from './sequential-probability-ratio-test';

/** One labelled prediction: whether it was right, and when its label arrived (a feedback id: larger is later). */
export interface LabelledPrediction {
  arrival: bigint;
  correct: boolean;
}

export interface PairedAccuracyTest {
  /** Canary outcomes paired with a later champion outcome. */
  pairs: number;
  /** Pairs where exactly one model was right... */
  discordant: number;
  /** ...and of those, the ones where it was the canary. */
  canaryRight: number;
  /** Over the paired outcomes; null without pairs. */
  canaryAccuracy: number | null;
  championAccuracy: number | null;
  /** The SPRT over the discordant pairs: success = the canary was the one right; p0 = 1/2, p1 = q1. */
  sprt: SprtResult;
}

export function pairedAccuracySprt(
  canary: readonly LabelledPrediction[],
  champion: readonly LabelledPrediction[],
  options: { alpha: number; beta: number; minEffect: number },
): PairedAccuracyTest {
  const discordant: Array<0 | 1> = [];
  let canaryCorrect = 0;
  let championCorrect = 0;
  const paired = pairByArrival(canary, champion);
  for (const [c, h] of paired) {
    if (c.correct) canaryCorrect++;
    if (h.correct) championCorrect++;
    if (c.correct !== h.correct) discordant.push(c.correct ? 1 : 0);
  }
  const pairs = paired.length;
  // The alternative is placed at the champion's accuracy over all its labels (smoothed away from 0 and 1).
  const championAll = (champion.filter((h) => h.correct).length + 1) / (champion.length + 2);
  const pc = Math.max(championAll - options.minEffect, 0.001);
  const q1 = (pc * (1 - championAll)) / (pc * (1 - championAll) + championAll * (1 - pc));
  const sprt = bernoulliSprt(discordant, { p0: 0.5, minEffect: 0.5 - q1, alpha: options.alpha, beta: options.beta });
  return {
    pairs,
    discordant: discordant.length,
    canaryRight: discordant.filter((d) => d === 1).length,
    canaryAccuracy: pairs === 0 ? null : canaryCorrect / pairs,
    championAccuracy: pairs === 0 ? null : championCorrect / pairs,
    sprt,
  };
}
