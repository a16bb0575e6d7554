import type { RetrainingPipelineResult } from '../../workflows/definitions';

const f3 = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '-');

/** Renders rows as a fixed-width text table with a header rule. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One line per pipeline run: what was trained, how it scored against the champion, and what was decided. */
export function renderPipelineResults(results: RetrainingPipelineResult[]): string {
  return renderTable(
    ['day', 'version', 'training', 'holdout rows', 'AUC', 'champion AUC', 'AUC delta (CI)', 'decision', 'champion after', 'reason'],
    results.map((r) => [
      r.day,
      `v${r.version.version}${r.version.reused ? ' (reused)' : ''}`,
      r.training.mode === 'fine_tune' ? `fine-tune of v${r.training.baseVersion}` : 'from scratch',
      String(r.datasets.holdout.rowCount),
      f3(r.metrics.candidate.auc),
      r.metrics.championVersion === null ? '-' : `${f3(r.metrics.champion?.auc)} (v${r.metrics.championVersion})`,
      aucDelta(r),
      r.decision,
      r.championVersion === null ? '-' : `v${r.championVersion}`,
      r.reason,
    ]),
  );
}

function aucDelta(r: RetrainingPipelineResult): string {
  const d = r.evaluation.deltas?.auc;
  if (!d || r.metrics.championVersion === r.version.version) return '-';
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  return `${signed(d.delta)} (${signed(d.low)}..${signed(d.high)})`;
}
