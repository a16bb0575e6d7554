/**
 * The Jensen–Shannon distance between two discrete distributions (scipy.spatial.distance.jensenshannon
 * with its default natural logarithm): each vector is divided by its sum, m = (p + q) / 2, and the
 * distance is √((KL(p‖m) + KL(q‖m)) / 2), between 0 (same distribution) and √ln 2 ≈ 0.8326 (disjoint).
 * NaN when either vector sums to zero.
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  if (!(sp > 0) || !(sq > 0)) return NaN;
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += a * Math.log(a / m);
    if (b > 0) divergence += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(divergence, 0) / 2);
}
