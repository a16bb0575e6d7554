import type { FeatureSpec } from '../spec/model-spec';
import { categoricalPsi, numericPsi } from './population-stability-index';

/** A drift test, described by data so reports can say which method and threshold applied. */
export interface DriftMethod {
  name: 'psi';
  allowedFeatureKinds: ReadonlyArray<FeatureSpec['kind']>;
  defaultThreshold: number;
}

export const DRIFT_METHODS: Readonly<Record<DriftMethod['name'], DriftMethod>> = {
  psi: { name: 'psi', allowedFeatureKinds: ['numeric', 'categorical'], defaultThreshold: 0.25 },
};

export interface FeatureDriftResult {
  feature: string;
  kind: FeatureSpec['kind'];
  method: DriftMethod['name'];
  score: number;
  threshold: number;
  drifted: boolean;
}

export interface DriftReport {
  features: FeatureDriftResult[];
  /** The feature with the highest score, or null when no score could be computed. */
  worst: FeatureDriftResult | null;
}

/** The columns a drift test reads: numeric columns (NaN = missing) and categorical ones (null = missing), by feature name. */
export interface FeatureColumns {
  readonly numeric: Readonly<Record<string, Float64Array>>;
  readonly categorical: Readonly<Record<string, ReadonlyArray<string | null>>>;
}

/** Scores every feature's drift between a reference table (e.g. the champion's training data) and a current one. */
export function featureDrift(reference: FeatureColumns, current: FeatureColumns, features: readonly FeatureSpec[], threshold = DRIFT_METHODS.psi.defaultThreshold): DriftReport {
  const results: FeatureDriftResult[] = features.map((feature) => {
    const score =
      feature.kind === 'numeric'
        ? numericPsi(reference.numeric[feature.name] ?? new Float64Array(0), current.numeric[feature.name] ?? new Float64Array(0))
        : categoricalPsi(reference.categorical[feature.name] ?? [], current.categorical[feature.name] ?? []);
    return { feature: feature.name, kind: feature.kind, method: 'psi', score, threshold, drifted: score > threshold };
  });
  const scored = results.filter((r) => Number.isFinite(r.score));
  const worst = scored.reduce<FeatureDriftResult | null>((w, r) => (w === null || r.score > w.score ? r : w), null);
  return { features: results, worst };
}
