/**
 * Number formats shared by gate messages and the evaluation report, so a number reads the
 * same in both: metrics to 3 decimals, differences signed, undefined values as "n/a".
 * Accepts null because NaN arrives as null after JSON.
 */

/** A metric to 3 decimals; "n/a" for NaN, null or undefined. */
export function formatMetric(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : 'n/a';
}

/** A difference to 3 decimals with its sign ("+0.012", "-0.028"); one that rounds to zero is "0.000". */
export function formatDifference(x: number | null | undefined): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'n/a';
  const text = Math.abs(x).toFixed(3);
  if (Number(text) === 0) return text;
  return (x < 0 ? '-' : '+') + text;
}

/** A confidence level as a percentage: 0.95 → "95%", 0.975 → "97.5%". */
export function formatConfidence(confidence: number): string {
  return `${Number((confidence * 100).toFixed(1))}%`;
}

/** A count with thousands separators, independent of the locale: 17000 → "17,000". */
export function formatCount(x: number | null | undefined): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'n/a';
  return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A p-value: 3 significant digits ("0.412"), below 0.001 in exponent form ("3.1e-12"), "n/a" for null. */
export function formatPValue(p: number | null | undefined): string {
  if (typeof p !== 'number' || !Number.isFinite(p)) return 'n/a';
  if (p === 0) return '0';
  return p >= 0.001 ? p.toPrecision(3).replace(/\.?0+$/, '') : p.toExponential(1);
}
