/**
 * The offline evaluation as an approver reads it in the run's current details: every metric of
 * candidate and champion, the difference with its paired bootstrap interval and what the
 * interval says (better, worse, no clear difference), and every gate with its numbers. A
 * one-line summary ("all 11 gates passed: candidate AUC 0.612, champion v1 AUC 0.616") hid a
 * candidate significantly worse on AUC, F1 and calibration; the table shows it. Reads the
 * summary as it arrives from JSON (NaN as null: "n/a").
 */
import type { OfflineGateCheck } from '../policy/offline-gates';
import type { OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { formatConfidence, formatCount, formatDifference, formatMetric } from '../stats/metric-format';
import { METRICS, metricValue } from '../stats/metrics';
import { blocks, escapeText, link, table } from './markdown';

export interface OfflineEvidence {
  summary: OfflineEvaluationSummary;
  gates: readonly OfflineGateCheck[];
  /** The offline decision's reason, as the pipeline decided it. */
  verdict: string;
  /** The HTML report's link (the gateway's stable URL, or a presigned S3 link). */
  report: { url: string } | null;
  /** What the reader must know about the comparison itself (the champion learned from the holdout day, ...). */
  comparisonNote?: string | null;
}

/** What an interval of candidate − champion says, oriented by the metric's better direction. */
export function differenceVerdict(low: number | null | undefined, high: number | null | undefined, higherIsBetter: boolean): 'better' | 'worse' | 'no clear difference' | 'n/a' {
  if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) return 'n/a';
  const [worseEnd, betterEnd] = higherIsBetter ? [low, high] : [-high, -low];
  if (worseEnd > 0) return 'better';
  if (betterEnd < 0) return 'worse';
  return 'no clear difference';
}

/** `-0.004 (-0.007..-0.002)`: a difference and its interval. */
export function differenceWithInterval(delta: number | null | undefined, low: number | null | undefined, high: number | null | undefined): string {
  return `${formatDifference(delta)} (${formatDifference(low)}..${formatDifference(high)})`;
}

export function renderOfflineEvidence(evidence: OfflineEvidence): string {
  const { summary } = evidence;
  const passed = evidence.gates.filter((g) => g.passed).length;
  const failed = evidence.gates.length - passed;
  const outcome = evidence.gates.length === 0 ? 'no gates applied' : failed === 0 ? `all ${evidence.gates.length} gates passed` : `${failed} of ${evidence.gates.length} gates failed`;
  const heading = `### Offline evaluation on ${summary.holdoutDay} (${formatCount(summary.rows)} held-out rows): ${outcome}`;
  const reportLine = evidence.report ? `${link('Evaluation report', evidence.report.url)} (ROC and calibration curves, slices, every gate)` : null;
  const note = evidence.comparisonNote ? `> ${escapeText(evidence.comparisonNote)}` : null;
  return blocks(heading, reportLine, note, metricTable(summary), gateTable(evidence.gates, summary), `Decision: ${escapeText(evidence.verdict)}`);
}

function metricTable(summary: OfflineEvaluationSummary): string {
  const candidate = `candidate v${summary.candidateVersion}`;
  if (summary.champion === null || summary.championVersion === null) {
    return blocks(
      `${escapeText(candidate)}, compared with no model (absolute gates only):`,
      table(
        ['metric', 'better', candidate],
        METRICS.map((m) => [escapeText(m.label), m.higherIsBetter ? 'higher' : 'lower', formatMetric(metricValue(summary.candidate, m.name))]),
        ['left', 'left', 'right'],
      ),
    );
  }
  const champion = `champion v${summary.championVersion}`;
  const ci = `${formatConfidence(summary.confidence)} CI`;
  const rows = METRICS.map((m) => {
    const d = summary.deltas?.[m.name];
    const verdict = differenceVerdict(d?.low, d?.high, m.higherIsBetter);
    return [
      escapeText(m.label),
      m.higherIsBetter ? 'higher' : 'lower',
      formatMetric(metricValue(summary.candidate, m.name)),
      formatMetric(metricValue(summary.champion, m.name)),
      differenceWithInterval(d?.delta, d?.low, d?.high),
      verdict === 'worse' ? '**worse**' : verdict,
    ];
  });
  return blocks(
    `${escapeText(candidate)} vs ${escapeText(champion)} on the same rows; differences are candidate − champion with ${formatConfidence(summary.confidence)} paired bootstrap intervals (${formatCount(summary.bootstrapSamples)} resamples): better or worse when the interval excludes 0.`,
    table(['metric', 'better', candidate, champion, `difference (${ci})`, 'verdict'], rows, ['left', 'left', 'right', 'right', 'left', 'left']),
  );
}

function gateTable(gates: readonly OfflineGateCheck[], summary: OfflineEvaluationSummary): string | null {
  if (gates.length === 0) return null;
  const ci = `${formatConfidence(summary.confidence)} CI`;
  const rows = gates.map((g) => {
    const label = METRICS.find((m) => m.name === g.metric)?.label ?? g.metric;
    const on = g.slice === undefined ? escapeText(label) : `${escapeText(label)} on ${escapeText(g.slice)}`;
    const isMinimum = g.gate === 'minimum';
    const value = isMinimum ? `candidate ${formatMetric(g.value)}` : g.interval ? differenceWithInterval(g.value, g.interval[0], g.interval[1]) : formatDifference(g.value);
    const rule = isMinimum ? `${g.higherIsBetter ? '≥' : '≤'} ${formatMetric(g.threshold)}` : `${g.higherIsBetter ? 'worse end ≥' : 'worse end ≤'} ${formatDifference(g.threshold)}`;
    return [g.passed ? 'pass' : '**FAIL**', escapeText(g.gate), on, value, rule];
  });
  return blocks(`Gates (${gates.length}):`, table(['result', 'gate', 'on', `value (${ci} for differences)`, 'rule'], rows, ['left', 'left', 'left', 'left', 'left']));
}
