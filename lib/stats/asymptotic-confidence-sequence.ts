/**
 * A confidence sequence for a mean: intervals C_t, one after every observation, that all cover
 * the true mean at once with probability ≥ 1 − alpha (asymptotically), so they may be looked at
 * after every observation, and acted on at any look, without inflating the error rate. A fixed-n
 * interval looked at 100 times would exclude a true mean of 0 far more often than alpha.
 *
 * This is the asymptotic confidence sequence of Waudby-Smith, Arnold, Wu, Tsiatis and Wager
 * ("Time-uniform central limit theory and asymptotic confidence sequences", Annals of
 * Statistics 2024, Theorem 2.2): Robbins' normal-mixture boundary (the boundary of the mixture
 * SPRT, "always valid p-values") with the running standard deviation plugged in,
 *
 *   C_t = mean_t ± σ̂_t · √( 2(tρ² + 1) / (t²ρ²) · ln( √(tρ² + 1) / α ) ),
 *
 * σ̂_t² = (1/t)·Σ (x_i − mean_t)². ρ only shapes where the sequence is tightest:
 * ρ² = (−2 ln α + ln(1 − 2 ln α)) / t* minimises the width at t = t* (`tunedFor`).
 *
 * Assumptions: independent, identically distributed observations with a finite variance (a bit
 * more, 2 + δ moments, in the theorem). "Asymptotic" means the coverage holds as the first
 * look's sample grows: with the variance estimated from a handful of observations the first
 * intervals are too narrow, so callers should not act before a minimum sample (the canary's
 * `lossTest.minPairs`). test/unit/stats-confidence-sequence-properties.test.ts checks the
 * error rate in simulation, looking after every observation.
 */

export interface ConfidenceSequenceOptions {
  /** The chance that some interval of the whole sequence misses the mean (two-sided). */
  alpha: number;
  /** The number of observations where the intervals are made narrowest. */
  tunedFor: number;
}

export interface ConfidenceSequenceBounds {
  observations: number;
  mean: number;
  /** σ̂_t (divisor t). */
  standardDeviation: number;
  /** NaN with fewer than 2 observations (no spread to go by). */
  low: number;
  high: number;
}

/** ρ² of the normal mixture that makes the sequence narrowest after `tunedFor` observations. */
export function mixtureRhoSquared({ alpha, tunedFor }: ConfidenceSequenceOptions): number {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`a confidence sequence needs alpha in (0, 1), got ${alpha}`);
  if (!(tunedFor >= 1)) throw new Error(`a confidence sequence is tuned for at least 1 observation, got ${tunedFor}`);
  const l = -2 * Math.log(alpha);
  return (l + Math.log(1 + l)) / tunedFor;
}

/** The half-width of C_t for a unit standard deviation after `t` observations. */
export function unitRadius(t: number, rhoSquared: number, alpha: number): number {
  const s = t * rhoSquared + 1;
  return Math.sqrt(((2 * s) / (t * t * rhoSquared)) * Math.log(Math.sqrt(s) / alpha));
}

/** Observations pushed one at a time (Welford's running mean and variance); `bounds()` is C_t for the observations so far. */
export class ConfidenceSequence {
  readonly #alpha: number;
  readonly #rhoSquared: number;
  #t = 0;
  #mean = 0;
  #squares = 0;

  constructor(options: ConfidenceSequenceOptions) {
    this.#rhoSquared = mixtureRhoSquared(options);
    this.#alpha = options.alpha;
  }

  push(x: number): void {
    this.#t++;
    const delta = x - this.#mean;
    this.#mean += delta / this.#t;
    this.#squares += delta * (x - this.#mean);
  }

  get observations(): number {
    return this.#t;
  }

  bounds(): ConfidenceSequenceBounds {
    const t = this.#t;
    if (t === 0) return { observations: 0, mean: NaN, standardDeviation: NaN, low: NaN, high: NaN };
    const standardDeviation = Math.sqrt(Math.max(this.#squares, 0) / t);
    if (t < 2 || Number.isNaN(this.#mean)) return { observations: t, mean: this.#mean, standardDeviation, low: NaN, high: NaN };
    const radius = standardDeviation * unitRadius(t, this.#rhoSquared, this.#alpha);
    return { observations: t, mean: this.#mean, standardDeviation, low: this.#mean - radius, high: this.#mean + radius };
  }
}

/** C_t after all of `values`: the interval a look at this moment gets. A NaN value makes every number NaN. */
export function meanConfidenceSequence(values: ArrayLike<number>, options: ConfidenceSequenceOptions): ConfidenceSequenceBounds {
  const sequence = new ConfidenceSequence(options);
  for (let i = 0; i < values.length; i++) sequence.push(values[i]!);
  return sequence.bounds();
}
