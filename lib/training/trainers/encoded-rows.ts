/**
 * A feature table encoded once for the training and scoring loops: one contiguous run of
 * float64 per row, so a shuffled pass touches one or two cache lines per row and does no
 * per-row allocation, string hashing or map lookup.
 */
import type { FeatureTable } from '../../data/feature-table';
import type { FeaturePreprocessing } from './builtin-model';
import { requireCategoricalColumn, requireNumericColumn } from './feature-columns';

/**
 * Input rows of a model's first weight matrix: rows 0..numericCount-1 belong to the numeric
 * features; categorical feature k owns rows categoricalOffsets[k] .. + vocabulary size
 * (the last one is its "other" bucket). Multiplying a one-hot encoding by that matrix
 * is the same as adding up the rows a table row selects.
 */
export interface InputLayout {
  readonly numericCount: number;
  readonly categoricalOffsets: readonly number[];
  readonly inputRows: number;
}

export function inputLayout(preprocessing: FeaturePreprocessing): InputLayout {
  let offset = preprocessing.numeric.length;
  const categoricalOffsets: number[] = [];
  for (const feature of preprocessing.categorical) {
    categoricalOffsets.push(offset);
    offset += feature.categories.length + 1;
  }
  return { numericCount: preprocessing.numeric.length, categoricalOffsets, inputRows: offset };
}

/**
 * Row r occupies data[r·stride .. (r+1)·stride): the standardized numeric values (0 for
 * missing), then per categorical feature the input row its value selects, then the label.
 */
export interface EncodedRows {
  readonly rows: number;
  readonly stride: number;
  readonly numericCount: number;
  readonly categoricalCount: number;
  readonly data: Float64Array;
}

/** Encodes `table` with a model's preprocessing; without `labels` the label slots hold 0. */
export function encodeRows(table: FeatureTable, preprocessing: FeaturePreprocessing, labels?: Uint8Array): EncodedRows {
  const layout = inputLayout(preprocessing);
  const { rows } = table;
  const numericCount = preprocessing.numeric.length;
  const categoricalCount = preprocessing.categorical.length;
  const stride = numericCount + categoricalCount + 1;
  const data = new Float64Array(rows * stride);

  preprocessing.numeric.forEach((feature, j) => {
    const column = requireNumericColumn(table, feature.name, false);
    const { mean, std } = feature;
    for (let row = 0, at = j; row < rows; row++, at += stride) {
      const value = column[row]!;
      data[at] = Number.isNaN(value) ? 0 : (value - mean) / std;
    }
  });
  preprocessing.categorical.forEach((feature, k) => {
    const column = requireCategoricalColumn(table, feature.name);
    const offset = layout.categoricalOffsets[k]!;
    const other = offset + feature.categories.length;
    const index = new Map(feature.categories.map((value, i) => [value, offset + i]));
    for (let row = 0, at = numericCount + k; row < rows; row++, at += stride) {
      const value = column[row];
      data[at] = value == null ? other : (index.get(value) ?? other);
    }
  });
  if (labels) {
    for (let row = 0, at = stride - 1; row < rows; row++, at += stride) data[at] = labels[row]!;
  }
  return { rows, stride, numericCount, categoricalCount, data };
}

/**
 * Copies rows order[start..end) of `source` into `target`, one after the other, and returns
 * them as a batch. The copy loop has no dependencies between rows, so the CPU overlaps
 * their cache misses; the math then runs on contiguous memory.
 */
export function gatherRows(source: EncodedRows, order: Uint32Array, start: number, end: number, target: Float64Array): EncodedRows {
  const { data, stride } = source;
  let to = 0;
  for (let i = start; i < end; i++) {
    const from = order[i]! * stride;
    for (let q = 0; q < stride; q++) target[to++] = data[from + q]!;
  }
  return { rows: end - start, stride, numericCount: source.numericCount, categoricalCount: source.categoricalCount, data: target };
}

/** A copy of `source` whose row i is source row permutation[i]. */
export function permuteRows(source: EncodedRows, permutation: Uint32Array): EncodedRows {
  const data = new Float64Array(source.data.length);
  gatherRows(source, permutation, 0, permutation.length, data);
  return { ...source, data };
}
