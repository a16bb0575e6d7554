/**
 * The L-infinity distance between two samples' category shares, max over categories of
 * |share_ref − share_cur| (NannyML's L-infinity drift method for categorical features): the largest
 * move of any one category, in [0, 1]; it does not grow with the number of categories as summed
 * distances do. NaN when either sample is empty; a single category gives 0.
 */
export function lInfinityDistance(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  let n1 = 0;
  let n2 = 0;
  for (let k = 0; k < reference.length; k++) {
    n1 += reference[k]!;
    n2 += current[k]!;
  }
  if (n1 === 0 || n2 === 0) return NaN;
  let max = 0;
  for (let k = 0; k < reference.length; k++) max = Math.max(max, Math.abs(reference[k]! / n1 - current[k]! / n2));
  return max;
}
