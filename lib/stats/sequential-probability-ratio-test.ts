/**
 * Wald's sequential probability ratio test on Bernoulli outcomes (1 = the
 * prediction was right): H0 "the candidate is as accurate as the reference
 * (p0)" against H1 "it is worse by `minEffect` (p1 = p0 - minEffect)". The
 * log-likelihood ratio is checked after every observation against Wald's
 * bounds, so a clear loser is stopped early; until a bound is crossed the
 * answer is "continue", never "pass".
 */
export type SprtDecision = 'continue' | 'accept_h0' | 'accept_h1';

export interface SprtResult {
  decision: SprtDecision;
  /** log Λ after all observations. */
  logLikelihoodRatio: number;
  /** Crossing the upper bound accepts H1 (worse); crossing the lower accepts H0 (not worse). */
  upperBound: number;
  lowerBound: number;
  observations: number;
  successes: number;
  p0: number;
  p1: number;
}

export interface SprtOptions {
  /** Reference success rate (e.g. the champion's accuracy over the same period). */
  p0: number;
  /** The smallest drop in success rate worth detecting. */
  minEffect: number;
  /** False alarm rate: P(accept H1 | H0). */
  alpha: number;
  /** Miss rate: P(accept H0 | H1). */
  beta: number;
}

export function bernoulliSprt(outcomes: ArrayLike<0 | 1 | boolean>, options: SprtOptions): SprtResult {
  const { alpha, beta, minEffect } = options;
  // Keep both rates inside (0, 1) so every log term is finite.
  const p0 = Math.min(Math.max(options.p0, minEffect + 1e-6), 1 - 1e-6);
  const p1 = Math.max(p0 - minEffect, 1e-6);
  const upperBound = Math.log((1 - beta) / alpha);
  const lowerBound = Math.log(beta / (1 - alpha));
  const onSuccess = Math.log(p1 / p0);
  const onFailure = Math.log((1 - p1) / (1 - p0));
  let llr = 0;
  let successes = 0;
  let decision: SprtDecision = 'continue';
  let n = 0;
  for (; n < outcomes.length; n++) {
    const success = outcomes[n] === 1 || outcomes[n] === true;
    if (success) successes++;
    llr += success ? onSuccess : onFailure;
    if (llr >= upperBound) {
      decision = 'accept_h1';
      n++;
      break;
    }
    if (llr <= lowerBound) {
      decision = 'accept_h0';
      n++;
      break;
    }
  }
  return { decision, logLikelihoodRatio: llr, upperBound, lowerBound, observations: n, successes, p0, p1 };
}
