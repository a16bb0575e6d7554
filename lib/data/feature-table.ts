/**
 * Columnar training/scoring data after feature expressions have been applied.
 * Numeric features are float64 columns (NaN marks a missing value); categorical
 * features are string columns (null marks a missing value). `label` holds class
 * indices 0..K-1 (binary: 0/1) and is absent when scoring unlabelled data.
 */
export interface FeatureTable {
  readonly rows: number;
  readonly numeric: Readonly<Record<string, Float64Array>>;
  readonly categorical: Readonly<Record<string, ReadonlyArray<string | null>>>;
  readonly label?: Uint8Array;
  /** Each row's key in its snapshot (lib/data/row-keys.ts), when loaded `withRowKeys`. */
  readonly rowKeys?: readonly string[];
}
