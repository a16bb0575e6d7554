/**
 * Moves weight matrices between a model's JSON form (number[][], row-major) and the flat
 * float64 parameter vector the trainer works on, checking every shape on the way in.
 */

/** rows × width values of `params` starting at `offset`, as nested arrays. */
export function matrixFromParameters(params: Float64Array, offset: number, rows: number, width: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) out.push(Array.from(params.subarray(offset + r * width, offset + (r + 1) * width)));
  return out;
}

/** Copies `matrix` into `params` at `offset`, requiring exactly rows × width finite numbers. */
export function copyMatrixToParameters(matrix: readonly (readonly number[])[], params: Float64Array, offset: number, rows: number, width: number, what: string): void {
  if (matrix.length !== rows) throw new Error(`${what} has ${matrix.length} rows, expected ${rows}`);
  matrix.forEach((row, r) => {
    if (row.length !== width) throw new Error(`${what} row ${r} has ${row.length} values, expected ${width}`);
    copyVectorToParameters(row, params, offset + r * width, width, `${what} row ${r}`);
  });
}

export function copyVectorToParameters(vector: readonly number[], params: Float64Array, offset: number, length: number, what: string): void {
  if (vector.length !== length) throw new Error(`${what} has ${vector.length} values, expected ${length}`);
  for (let i = 0; i < length; i++) {
    const value = vector[i]!;
    if (!Number.isFinite(value)) throw new Error(`${what} has a non-finite value (${value}) at ${i}`);
    params[offset + i] = value;
  }
}
