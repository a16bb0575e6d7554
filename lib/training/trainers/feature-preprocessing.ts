/**
 * Learns a model's preprocessing from its from-scratch training table: standardization
 * statistics of numeric features and vocabularies of categorical ones. A fine-tuned
 * model keeps its warm start's preprocessing instead, so its weights keep their meaning.
 */
import type { FeatureSpec } from '../../spec/model-spec';
import type { FeatureTable } from '../../data/feature-table';
import type { CategoricalVocabulary, FeaturePreprocessing, NumericStandardization } from './builtin-model';
import { requireCategoricalColumn, requireNumericColumn } from './feature-columns';

export function fitPreprocessing(table: FeatureTable, features: readonly FeatureSpec[]): FeaturePreprocessing {
  const numeric: NumericStandardization[] = [];
  const categorical: CategoricalVocabulary[] = [];
  for (const feature of features) {
    if (feature.kind === 'numeric') {
      numeric.push({ name: feature.name, ...standardization(requireNumericColumn(table, feature.name, true)) });
    } else {
      const categories = vocabulary(requireCategoricalColumn(table, feature.name), feature.maxCategories);
      categorical.push({ name: feature.name, maxCategories: feature.maxCategories, categories });
    }
  }
  return { numeric, categorical };
}

/** Mean and population standard deviation of the non-missing values; std 0 (or no values) becomes 1. */
function standardization(column: Float64Array): { mean: number; std: number } {
  let count = 0;
  let sum = 0;
  for (const value of column) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  if (count === 0) return { mean: 0, std: 1 };
  const mean = sum / count;
  let squares = 0;
  for (const value of column) {
    if (!Number.isNaN(value)) squares += (value - mean) ** 2;
  }
  const std = Math.sqrt(squares / count);
  return { mean, std: std > 0 ? std : 1 };
}

/**
 * The `maxCategories` most frequent values, most frequent first; ties are broken by value
 * (code-unit order) so the vocabulary does not depend on row order. null and "" count as missing.
 */
function vocabulary(column: ReadonlyArray<string | null>, maxCategories: number): string[] {
  const counts = new Map<string, number>();
  for (const value of column) {
    if (value == null || value === '') continue;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, maxCategories)
    .map(([value]) => value);
}
