/**
 * Deterministic pseudo-random numbers for training: the same seed gives the same
 * sequence on every machine, so a retried training activity reproduces its model.
 */

/**
 * Mulberry32: a 32-bit state generator returning floats in [0, 1). Small, fast, good enough
 * for shuffling and weight initialisation. Its whole state is one uint32, so a training
 * checkpoint can store it and a resumed run continues the exact same sequence.
 */
export class Mulberry32 {
  #state: number;

  /** `state` is a seed or a value read from `state` earlier; only its low 32 bits count. */
  constructor(state: number) {
    this.#state = state >>> 0;
  }

  /** The uint32 that determines every following number. */
  get state(): number {
    return this.#state;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A standard normal draw (Box–Muller; uses two uniforms and discards the second normal, so the state advance is fixed). */
  nextGaussian(): number {
    const u = 1 - this.next(); // (0, 1]: log(0) is impossible
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** Mulberry32 as a plain function, for callers that need only the numbers. */
export function mulberry32(seed: number): () => number {
  const random = new Mulberry32(seed);
  return () => random.next();
}

/** Fisher–Yates shuffle of `values` (an array or a typed array) in place, driven by `random`. */
export function shuffleInPlace<T>(values: { length: number; [index: number]: T }, random: () => number): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
}
