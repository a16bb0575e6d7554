/**
 * What the shared epoch loop (shuffling, Adam, checkpoints) needs from an algorithm:
 * its parameters as one flat vector and the forward/backward math over encoded rows.
 */
import type { EncodedRows } from './encoded-rows';

export interface TrainingKernel {
  /** Every parameter, updated in place by the optimizer. */
  readonly params: Float64Array;
  /** Adds the log-loss gradient summed over every row of `batch` to `gradient` (same layout as params). */
  accumulateGradient(batch: EncodedRows, gradient: Float64Array): void;
  /** Mean log loss over every row (no L2 term). */
  meanLoss(rows: EncodedRows): number;
  /** Class probabilities of every row into `out`, row-major rows × classes. */
  predict(rows: EncodedRows, out: Float64Array): void;
}
