/**
 * Numerically stable probabilities and log losses for models whose class 0 is the
 * reference class: its logit is 0 and classes 1..L have logits z[1..L] (L = K - 1).
 */

/** σ(z) without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** −log σ(z) for y = 1 and −log(1 − σ(z)) for y = 0, finite for large |z|. */
export function binaryCrossEntropy(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/** Replaces z[0..L] (z[0] = 0) by softmax probabilities. */
export function softmaxAgainstReference(z: Float64Array, logits: number): void {
  let max = 0;
  for (let c = 1; c <= logits; c++) if (z[c]! > max) max = z[c]!;
  let sum = 0;
  for (let c = 0; c <= logits; c++) {
    const e = Math.exp(z[c]! - max);
    z[c] = e;
    sum += e;
  }
  const inverse = 1 / sum;
  for (let c = 0; c <= logits; c++) z[c]! *= inverse;
}

/** −log softmax(z)[label] for z[0..L] (z[0] = 0), without overwriting z. */
export function crossEntropyAgainstReference(z: Float64Array, logits: number, label: number): number {
  let max = 0;
  for (let c = 1; c <= logits; c++) if (z[c]! > max) max = z[c]!;
  let sum = 0;
  for (let c = 0; c <= logits; c++) sum += Math.exp(z[c]! - max);
  return max + Math.log(sum) - z[label]!;
}
