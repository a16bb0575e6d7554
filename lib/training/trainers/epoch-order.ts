/**
 * The order in which an epoch visits the training rows. Rows are stored once in a random
 * permutation drawn from the seed, and every epoch shuffles blocks of BLOCK_ROWS stored
 * rows rather than single rows: a mini-batch is still a random sample, but it is read as
 * a few contiguous runs instead of one cache and TLB miss per row. On a million rows
 * (48 MB encoded) that makes the gradient pass about three times faster; on tables that
 * fit in cache it changes nothing but the order.
 */
import { Mulberry32, shuffleInPlace } from '../../stats/seeded-random';

/** Stored rows per shuffled block: 16 rows of a few features span a dozen cache lines. */
const BLOCK_ROWS = 16;

/** Distinguishes the storage permutation's generator from the run's (which checkpoints carry). */
const STORAGE_STREAM = 0x9e3779b9;

/** The permutation of table rows into storage order; it depends only on the seed and the row count, so a resumed run re-creates it. */
export function storagePermutation(rows: number, seed: number): Uint32Array {
  const permutation = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) permutation[i] = i;
  const random = new Mulberry32((seed ^ STORAGE_STREAM) >>> 0);
  shuffleInPlace(permutation, () => random.next());
  return permutation;
}

/** Reusable buffers for one run's epoch orders. */
export class EpochOrder {
  /** Stored row indices in this epoch's order. */
  readonly rows: Uint32Array;
  readonly #blocks: Uint32Array;

  constructor(rows: number) {
    this.rows = new Uint32Array(rows);
    this.#blocks = new Uint32Array(Math.ceil(rows / BLOCK_ROWS));
  }

  /** Draws the next epoch's order from `random` (one draw per block but the first). */
  shuffle(random: () => number): Uint32Array {
    const blocks = this.#blocks;
    for (let b = 0; b < blocks.length; b++) blocks[b] = b;
    shuffleInPlace(blocks, random);
    const order = this.rows;
    let at = 0;
    for (let b = 0; b < blocks.length; b++) {
      const first = blocks[b]! * BLOCK_ROWS;
      const end = Math.min(order.length, first + BLOCK_ROWS);
      for (let row = first; row < end; row++) order[at++] = row;
    }
    return order;
  }
}
