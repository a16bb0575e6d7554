/**
 * Checked access to a feature table's columns, with errors that name the feature and
 * what the table has instead.
 */
import type { FeatureTable } from '../../data/feature-table';

/**
 * The numeric column `name`. With `finite`, ±Infinity is an error: it would poison the
 * mean, the std and every gradient (NaN is the only missing-value marker).
 */
export function requireNumericColumn(table: FeatureTable, name: string, finite: boolean): Float64Array {
  const column = table.numeric[name];
  if (!column) throw new Error(`numeric feature '${name}' is not in the feature table (numeric columns: ${Object.keys(table.numeric).join(', ') || 'none'})`);
  if (column.length !== table.rows) throw new Error(`numeric feature '${name}' has ${column.length} values, the table has ${table.rows} rows`);
  if (finite) {
    const bad = column.findIndex((v) => v === Infinity || v === -Infinity);
    if (bad >= 0) throw new Error(`numeric feature '${name}' has a non-finite value (${column[bad]}) at row ${bad}`);
  }
  return column;
}

export function requireCategoricalColumn(table: FeatureTable, name: string): ReadonlyArray<string | null> {
  const column = table.categorical[name];
  if (!column) {
    throw new Error(`categorical feature '${name}' is not in the feature table (categorical columns: ${Object.keys(table.categorical).join(', ') || 'none'})`);
  }
  if (column.length !== table.rows) throw new Error(`categorical feature '${name}' has ${column.length} values, the table has ${table.rows} rows`);
  return column;
}

/** The label column of a non-empty table, every value a class index below `classes`. */
export function requireClassLabels(table: FeatureTable, classes: number): Uint8Array {
  if (table.rows < 1) throw new Error('cannot train on an empty feature table');
  const { label } = table;
  if (!label) throw new Error('cannot train: the feature table has no label column');
  if (label.length !== table.rows) throw new Error(`label column has ${label.length} values, the table has ${table.rows} rows`);
  for (let i = 0; i < label.length; i++) {
    if (label[i]! >= classes) throw new Error(`labels must be class indices 0..${classes - 1}; row ${i} has ${label[i]}`);
  }
  return label;
}
