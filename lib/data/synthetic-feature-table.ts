/**
 * Deterministic, learnable classification tables (binary and K-class) for tests and
 * benchmarks of the built-in trainers: two informative numeric features, one constant,
 * two categorical ones, with missing values in both kinds.
 */
import type { FeatureSpec } from '../spec/model-spec';
import type { FeatureTable } from './feature-table';
import { mulberry32 } from '../stats/seeded-random';

export interface SyntheticFeatureTableOptions {
  rows: number;
  seed: number;
  /** Share of missing values (NaN / null) in `distance` and `carrier`. */
  missingRate?: number;
  /** Carriers drawn from a pool of this many ("c00" …); the model keeps at most 8. */
  carriers?: number;
}

export interface SyntheticFeatureTable {
  table: FeatureTable;
  features: FeatureSpec[];
}

/** The label follows a known logistic model of distance, hour, carrier and origin, so a good fit has AUC ≈ 0.93. */
export function syntheticFeatureTable({ rows, seed, missingRate = 0.05, carriers = 12 }: SyntheticFeatureTableOptions): SyntheticFeatureTable {
  const random = mulberry32(seed);
  const distance = new Float64Array(rows);
  const hour = new Float64Array(rows);
  const constant = new Float64Array(rows).fill(7);
  const carrier: (string | null)[] = new Array<string | null>(rows);
  const origin: (string | null)[] = new Array<string | null>(rows);
  const label = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) {
    const d = 50 + 2000 * random();
    const h = Math.floor(24 * random());
    // Squaring skews carrier frequencies so the vocabulary cut-off is meaningful.
    const c = Math.floor(carriers * random() ** 2);
    const o = Math.floor(5 * random());
    const logit = 3 * ((d - 1050) / 577) - 2 * ((h - 11.5) / 6.9) + (c % 3 === 0 ? 2 : -1) + (o - 2) * 0.5;
    label[row] = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    distance[row] = random() < missingRate ? NaN : d;
    hour[row] = h;
    carrier[row] = random() < missingRate ? null : `c${String(c).padStart(2, '0')}`;
    origin[row] = ['AMS', 'BOS', 'CDG', 'DEN', 'EWR'][o]!;
  }
  return {
    table: { rows, numeric: { distance, hour, constant }, categorical: { carrier, origin }, label },
    features: [
      { name: 'distance', kind: 'numeric' },
      { name: 'carrier', kind: 'categorical', maxCategories: 8 },
      { name: 'hour', kind: 'numeric' },
      { name: 'origin', kind: 'categorical', maxCategories: 200 },
      { name: 'constant', kind: 'numeric' },
    ],
  };
}

export interface SyntheticMulticlassOptions {
  rows: number;
  seed: number;
  /** Number of classes K ≥ 2; labels are 0..K-1. */
  classes: number;
  /** Share of missing values (NaN / null) in `distance` and `carrier`. */
  missingRate?: number;
}

/**
 * A K-class table with the same columns as syntheticFeatureTable: class c's logit is
 * 2.5·(cos θ_c · distance + sin θ_c · hour) on standardized values (θ_c = 2πc / K), +1.5
 * for carriers whose number is ≡ c mod K and +0.8 for one origin per class, and the label
 * is drawn from the softmax. The Bayes classifier is right far more often than 1 / K.
 */
export function syntheticMulticlassFeatureTable({ rows, seed, classes, missingRate = 0.05 }: SyntheticMulticlassOptions): SyntheticFeatureTable {
  const random = mulberry32(seed);
  const distance = new Float64Array(rows);
  const hour = new Float64Array(rows);
  const constant = new Float64Array(rows).fill(7);
  const carrier: (string | null)[] = new Array<string | null>(rows);
  const origin: (string | null)[] = new Array<string | null>(rows);
  const label = new Uint8Array(rows);
  const logits = new Float64Array(classes);
  for (let row = 0; row < rows; row++) {
    const d = 50 + 2000 * random();
    const h = Math.floor(24 * random());
    const c = Math.floor(12 * random() ** 2);
    const o = Math.floor(5 * random());
    let total = 0;
    for (let k = 0; k < classes; k++) {
      const angle = (2 * Math.PI * k) / classes;
      const z = 2.5 * (Math.cos(angle) * ((d - 1050) / 577) + Math.sin(angle) * ((h - 11.5) / 6.9)) + (c % classes === k ? 1.5 : 0) + (o === k % 5 ? 0.8 : 0);
      logits[k] = Math.exp(z);
      total += logits[k]!;
    }
    let u = random() * total;
    let y = 0;
    while (y < classes - 1 && u >= logits[y]!) u -= logits[y++]!;
    label[row] = y;
    distance[row] = random() < missingRate ? NaN : d;
    hour[row] = h;
    carrier[row] = random() < missingRate ? null : `c${String(c).padStart(2, '0')}`;
    origin[row] = ['AMS', 'BOS', 'CDG', 'DEN', 'EWR'][o]!;
  }
  return {
    table: { rows, numeric: { distance, hour, constant }, categorical: { carrier, origin }, label },
    features: [
      { name: 'distance', kind: 'numeric' },
      { name: 'carrier', kind: 'categorical', maxCategories: 8 },
      { name: 'hour', kind: 'numeric' },
      { name: 'origin', kind: 'categorical', maxCategories: 200 },
      { name: 'constant', kind: 'numeric' },
    ],
  };
}
