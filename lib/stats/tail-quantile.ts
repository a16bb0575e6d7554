/**
 * How far into a latency tail a sample can see. An estimate of the q-quantile from n
 * observations rests on the n·(1−q) largest; with only one or two of them (p99 of 150
 * requests), a single garbage-collection pause or preemption decides the comparison. So a
 * gate compares the highest quantile, up to its target, that leaves TAIL_OBSERVATIONS
 * observations beyond it: p99 from 1000 observations on, p93.3 with 150, the median below 20.
 */
export const TAIL_OBSERVATIONS = 10;

export function supportedTailQuantile(observations: number, target = 0.99): number {
  if (!(observations > 0)) return 0.5;
  return Math.max(0.5, Math.min(target, 1 - TAIL_OBSERVATIONS / observations));
}

/** "p99", "p93.3", "p50". */
export function quantileLabel(q: number): string {
  return `p${Number((q * 100).toFixed(1))}`;
}

/** A latency for messages: two decimals below 10 ms (model calls take tenths of a millisecond), one above. */
export function formatMilliseconds(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}
