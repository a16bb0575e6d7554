/**
 * A sample as the drift tests read it: each distinct value with how often it occurs, never the
 * rows themselves. DuckDB or Postgres aggregates a column to these counts (`GROUP BY value`), so
 * a million rows of a feature with a few thousand distinct values reach JavaScript as a few
 * thousand numbers, and every test (KS, Wasserstein, PSI, Jensen–Shannon, chi-square) is exact on
 * them: each of them depends on the sample only through its value counts.
 *
 * Missing values (null, NaN, ±Infinity) are counted apart and left out of the distribution tests
 * (as Evidently does); the monitor reports their share next to the tests (schema drift).
 */

/** Distinct finite values in ascending order, each with its count (> 0). */
export interface NumericCounts {
  readonly values: Float64Array;
  readonly counts: Float64Array;
  /** Rows whose value is null, NaN or ±Infinity. */
  readonly missing: number;
}

/** Categories (any order) with their counts (> 0). */
export interface CategoricalCounts {
  readonly categories: readonly string[];
  readonly counts: Float64Array;
  /** Rows whose value is null. */
  readonly missing: number;
}

export type FeatureCounts = ({ readonly kind: 'numeric' } & NumericCounts) | ({ readonly kind: 'categorical' } & CategoricalCounts);

/** Two numeric samples over the union of their values: `reference[k]` and `current[k]` count `values[k]`. */
export interface AlignedNumericCounts {
  readonly values: Float64Array;
  readonly reference: Float64Array;
  readonly current: Float64Array;
  readonly referenceTotal: number;
  readonly currentTotal: number;
}

/** Two categorical samples over the union of their categories (reference's first, then new ones). */
export interface AlignedCategoricalCounts {
  readonly categories: readonly string[];
  readonly reference: Float64Array;
  readonly current: Float64Array;
  readonly referenceTotal: number;
  readonly currentTotal: number;
}

export function total(counts: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]!;
  return sum;
}

/** Value counts of raw numbers (tests and small samples; the monitor gets its counts from SQL). */
export function numericCountsOf(values: ArrayLike<number>): NumericCounts {
  const finite: number[] = [];
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite.push(v);
    else missing++;
  }
  const sorted = Float64Array.from(finite).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) counts[counts.length - 1]!++;
    else {
      distinct.push(sorted[i]!);
      counts.push(1);
    }
  }
  return { values: Float64Array.from(distinct), counts: Float64Array.from(counts), missing };
}

/** Value counts of raw categories, in order of first appearance. */
export function categoricalCountsOf(values: ReadonlyArray<string | null>): CategoricalCounts {
  const index = new Map<string, number>();
  const counts: number[] = [];
  let missing = 0;
  for (const v of values) {
    if (v === null) {
      missing++;
      continue;
    }
    const i = index.get(v);
    if (i === undefined) {
      index.set(v, counts.length);
      counts.push(1);
    } else counts[i]!++;
  }
  return { categories: [...index.keys()], counts: Float64Array.from(counts), missing };
}

/** Builds NumericCounts from (value, count) pairs in any order; repeated values are added up, non-finite values become missing. */
export function numericCountsFromPairs(values: ArrayLike<number>, counts: ArrayLike<number>, missing = 0): NumericCounts {
  const order = Array.from({ length: values.length }, (_, i) => i).filter((i) => counts[i]! > 0);
  let extraMissing = 0;
  const finite = order.filter((i) => {
    if (Number.isFinite(values[i]!)) return true;
    extraMissing += counts[i]!;
    return false;
  });
  finite.sort((a, b) => values[a]! - values[b]!);
  const outValues: number[] = [];
  const outCounts: number[] = [];
  for (const i of finite) {
    if (outValues.length > 0 && outValues[outValues.length - 1] === values[i]) outCounts[outCounts.length - 1]! += counts[i]!;
    else {
      outValues.push(values[i]!);
      outCounts.push(counts[i]!);
    }
  }
  return { values: Float64Array.from(outValues), counts: Float64Array.from(outCounts), missing: missing + extraMissing };
}

/** Merges two ascending value lists (one pass). */
export function alignNumeric(reference: NumericCounts, current: NumericCounts): AlignedNumericCounts {
  const a = reference.values;
  const b = current.values;
  const values = new Float64Array(a.length + b.length);
  const ref = new Float64Array(a.length + b.length);
  const cur = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    values[k] = x;
    if (i < a.length && a[i] === x) ref[k] = reference.counts[i++]!;
    if (j < b.length && b[j] === x) cur[k] = current.counts[j++]!;
    k++;
  }
  return { values: values.slice(0, k), reference: ref.slice(0, k), current: cur.slice(0, k), referenceTotal: total(reference.counts), currentTotal: total(current.counts) };
}

export function alignCategorical(reference: CategoricalCounts, current: CategoricalCounts): AlignedCategoricalCounts {
  const index = new Map<string, number>();
  const categories: string[] = [];
  const add = (c: string) => {
    let i = index.get(c);
    if (i === undefined) {
      i = categories.length;
      index.set(c, i);
      categories.push(c);
    }
    return i;
  };
  reference.categories.forEach(add);
  current.categories.forEach(add);
  const ref = new Float64Array(categories.length);
  const cur = new Float64Array(categories.length);
  reference.categories.forEach((c, i) => (ref[index.get(c)!]! += reference.counts[i]!));
  current.categories.forEach((c, i) => (cur[index.get(c)!]! += current.counts[i]!));
  return { categories, reference: ref, current: cur, referenceTotal: total(ref), currentTotal: total(cur) };
}

/** A numeric sample seen as categories (its distinct values as strings), for the categorical tests on few-valued numbers. */
export function numericAsCategorical(counts: NumericCounts): CategoricalCounts {
  return { categories: Array.from(counts.values, (v) => String(v)), counts: counts.counts, missing: counts.missing };
}

/** Population mean and standard deviation (ddof 0, numpy's np.std) of counted values; NaN for none. */
export function countedMeanAndStd(counts: NumericCounts): { mean: number; std: number } {
  const n = total(counts.counts);
  if (n === 0) return { mean: NaN, std: NaN };
  let sum = 0;
  for (let i = 0; i < counts.values.length; i++) sum += counts.values[i]! * counts.counts[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < counts.values.length; i++) squares += counts.counts[i]! * (counts.values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(squares / n) };
}
