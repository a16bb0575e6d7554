/**
 * The partitions one pipeline run needs: the trailing training window before
 * `day` (oldest first) and `day` itself, the newest data, held out for evaluation.
 * Pure string arithmetic on UTC calendar days so workflows can call it.
 */
export function partitionsForRun(day: string, windowPartitions: number): { training: string[]; holdout: string } {
  const base = Date.parse(`${day}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(base) || new Date(base).toISOString().slice(0, 10) !== day) {
    throw new Error(`invalid day '${day}': expected YYYY-MM-DD`);
  }
  const training: string[] = [];
  for (let back = windowPartitions; back >= 1; back--) {
    training.push(new Date(base - back * 86_400_000).toISOString().slice(0, 10));
  }
  return { training, holdout: day };
}
