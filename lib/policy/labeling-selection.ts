import { Mulberry32 } from '../stats/seeded-random';

/**
 * Which rows of a partition go to labeling: a budget split into the rows the champion is least
 * sure about (closest to its decision boundary) and a seeded uniform sample of the rest, so the
 * labeled set also holds an unbiased sample of the partition (uncertainty sampling alone would
 * train on the boundary only and overstate how hard the data is). Pure and deterministic: the
 * same probabilities, budget, share, seed and day choose the same rows.
 */

export interface LabelingSelectionOptions {
  budget: number;
  randomShare: number;
  seed: number;
  /** The run's day: mixed into the seed so each day draws other rows. */
  day: string;
}

export interface SelectedRow {
  /** Index of the row in the partition's canonical order. */
  row: number;
  reason: 'uncertainty' | 'random';
  /** The champion's margin between its two most probable classes (0: on the boundary); null without a champion. */
  margin: number | null;
}

export interface LabelingSelection {
  rows: SelectedRow[];
  uncertainty: number;
  random: number;
  /** Rows the choice was made from. */
  candidates: number;
  /** Whether a champion's probabilities ranked the rows (without one every row is drawn at random). */
  ranked: boolean;
  /** Largest margin among the uncertainty picks: every row picked for uncertainty is at or below it. */
  marginCutoff: number | null;
  seed: number;
}

/**
 * The margin of one row: top-1 minus top-2 class probability (K classes). For a binary model
 * with P(positive) = p it is |2p − 1|, monotone in the distance to the 0.5 threshold.
 */
export function decisionMargin(probabilities: ArrayLike<number>): number {
  let first = -Infinity;
  let second = -Infinity;
  for (let k = 0; k < probabilities.length; k++) {
    const p = probabilities[k]!;
    if (p > first) {
      second = first;
      first = p;
    } else if (p > second) {
      second = p;
    }
  }
  return first - second;
}

/**
 * Chooses the rows. `margins[i]` is row i's decisionMargin, or `margins` is null when no champion
 * exists (then the whole budget is random). Ties in margin go to the earlier row. A NaN margin (a
 * row the champion could not score) is never an uncertainty pick, but may be drawn at random.
 */
export function selectRowsForLabeling(rows: number, margins: ArrayLike<number> | null, options: LabelingSelectionOptions): LabelingSelection {
  const budget = Math.min(options.budget, rows);
  const seed = mixSeed(options.seed, options.day);
  const wantedUncertain = margins ? Math.min(budget, Math.round(budget * (1 - options.randomShare))) : 0;
  const picked = new Uint8Array(rows);
  const selected: SelectedRow[] = [];
  let marginCutoff: number | null = null;
  if (margins && wantedUncertain > 0) {
    const order = Array.from({ length: rows }, (_, i) => i).filter((i) => !Number.isNaN(margins[i]!));
    order.sort((a, b) => margins[a]! - margins[b]! || a - b);
    for (const row of order.slice(0, wantedUncertain)) {
      picked[row] = 1;
      selected.push({ row, reason: 'uncertainty', margin: margins[row]! });
      marginCutoff = margins[row]!;
    }
  }
  const uncertainty = selected.length;
  const wantedRandom = budget - uncertainty;
  const rest = Uint32Array.from({ length: rows - uncertainty });
  let n = 0;
  for (let i = 0; i < rows; i++) if (!picked[i]) rest[n++] = i;
  // A partial Fisher–Yates: the first wantedRandom entries are a uniform sample without replacement.
  const random = new Mulberry32(seed);
  for (let i = 0; i < wantedRandom; i++) {
    const j = i + Math.floor(random.next() * (n - i));
    const tmp = rest[i]!;
    rest[i] = rest[j]!;
    rest[j] = tmp;
    const row = rest[i]!;
    selected.push({ row, reason: 'random', margin: margins ? margins[row]! : null });
  }
  return { rows: selected, uncertainty, random: wantedRandom, candidates: rows, ranked: margins !== null, marginCutoff, seed };
}

/** The spec's seed with the day mixed in (FNV-1a of the day, xor the seed). */
function mixSeed(seed: number, day: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < day.length; i++) hash = Math.imul(hash ^ day.charCodeAt(i), 0x01000193) >>> 0;
  return (hash ^ seed) >>> 0;
}
