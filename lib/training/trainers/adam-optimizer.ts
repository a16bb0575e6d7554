/**
 * Adam (Kingma & Ba, 2015) with L2 regularization added to the gradient ("coupled" L2,
 * as in the original trainer), over a flat float64 parameter vector.
 */

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** Everything Adam carries between steps; with the parameters it makes a resumed run exact. */
export interface AdamState {
  /** Updates done so far (drives the bias correction). */
  step: number;
  /** Moving averages of the gradient and of its square, one per parameter. */
  firstMoment: number[];
  secondMoment: number[];
}

export class AdamOptimizer {
  /** Per-parameter L2 coefficient: l2 for weights, 0 for biases. */
  readonly #l2: Float64Array;
  readonly #m: Float64Array;
  readonly #v: Float64Array;
  #step: number;

  /** `l2` is the per-parameter penalty coefficient; the optimizer starts fresh unless `state` is given. */
  constructor(l2: Float64Array, state?: AdamState) {
    this.#l2 = l2;
    this.#m = new Float64Array(l2.length);
    this.#v = new Float64Array(l2.length);
    this.#step = 0;
    if (state) {
      if (state.firstMoment.length !== l2.length || state.secondMoment.length !== l2.length) {
        throw new Error(`optimizer state has ${state.firstMoment.length}/${state.secondMoment.length} moments, the model has ${l2.length} parameters`);
      }
      this.#m.set(state.firstMoment);
      this.#v.set(state.secondMoment);
      this.#step = state.step;
    }
  }

  /**
   * One update at `learningRate` from `gradientSum`, the log-loss gradient summed over a batch;
   * `scale` (1 / batch rows) turns it into the mean. The objective is mean log loss + Σ (l2 / 2) · w².
   */
  update(params: Float64Array, gradientSum: Float64Array, scale: number, learningRate: number): void {
    const m = this.#m;
    const v = this.#v;
    const l2 = this.#l2;
    const step = ++this.#step;
    const correction1 = 1 - BETA1 ** step;
    const correction2 = 1 - BETA2 ** step;
    for (let q = 0; q < params.length; q++) {
      const weight = params[q]!;
      const g = gradientSum[q]! * scale + l2[q]! * weight;
      const mq = BETA1 * m[q]! + (1 - BETA1) * g;
      const vq = BETA2 * v[q]! + (1 - BETA2) * g * g;
      m[q] = mq;
      v[q] = vq;
      params[q] = weight - (learningRate * (mq / correction1)) / (Math.sqrt(vq / correction2) + EPSILON);
    }
  }

  state(): AdamState {
    return { step: this.#step, firstMoment: Array.from(this.#m), secondMoment: Array.from(this.#v) };
  }
}
