/**
 * The evaluation report: one self-contained HTML file (inline CSS and SVG, no scripts, no
 * external resources; a Content-Security-Policy meta tag enforces it) comparing a candidate
 * with the champion on one held-out day. Every key number is in an element with a
 * `data-metric` attribute, e.g. `candidate.auc`, `delta.auc.low`, `slice.origin=ATL.candidate.auc`,
 * so tests and scrapers find it without parsing text.
 * Reads the summary as it arrives from JSON: null numbers show as "n/a".
 */
import { escapeHtml as esc, htmlPage } from '../evidence/html-page';
import type { MetricName } from '../spec/model-spec';
import type { OfflineGateCheck, OfflineGatesResult } from '../policy/offline-gates';
import type { CalibrationBin, EvaluationCurves, RocPoint } from '../stats/evaluation-curves';
import { formatConfidence, formatCount, formatDifference, formatMetric } from '../stats/metric-format';
import type { MetricDelta, OfflineEvaluationSummary } from '../stats/evaluation-summary';
import { DECISION_THRESHOLD } from '../stats/decision-threshold';
import { METRICS, metricDefinition, metricValue, type MetricDefinition } from '../stats/metrics';

export interface EvaluationReportLink {
  label: string;
  /** http(s) or relative URLs become links; anything else (e.g. s3://…) is shown as text. */
  href: string;
}

export interface EvaluationReportInput {
  summary: OfflineEvaluationSummary;
  curves: EvaluationCurves;
  gates: OfflineGatesResult;
  title: string;
  links?: readonly EvaluationReportLink[];
  /** What a reader must know about the comparison itself, e.g. that the champion learned from this holdout day. */
  notes?: readonly string[];
}

const CANDIDATE_COLOR = '#1f5fbf';
const CHAMPION_COLOR = '#d9730d';
const PASS_COLOR = '#1a7f37';
const FAIL_COLOR = '#c62828';
const NEUTRAL_COLOR = '#6b7280';

/** Renders the report; the same input always gives the same bytes. */
export function renderEvaluationReport(input: EvaluationReportInput): string {
  const { summary, curves, gates, title } = input;
  const hasChampion = summary.champion !== null;
  const ci = formatConfidence(summary.confidence);
  const sections = [
    header(input),
    keyNumbers(summary, gates),
    section('Metrics', metricTable(summary, ci), `Differences are candidate − champion on all ${formatCount(summary.rows)} holdout rows; intervals are ${ci} paired bootstrap percentile intervals over ${formatCount(summary.bootstrapSamples)} resamples of the rows.`),
    `<div class="grid">${section('ROC curve', rocChart(curves), 'True positive rate against false positive rate over all thresholds.')}${section(
      'Calibration',
      calibrationChart(curves),
      'Mean predicted probability against the observed share of positives in 10 equal-width score bins; bars below count the rows per bin.',
    )}</div>`,
    hasChampion ? section('Change vs champion', deltaChart(summary, gates), `Each metric's difference oriented so that right is better (the sign is flipped for lower-is-better metrics), with its ${ci} interval; a red tick marks the allowed regression of a gate.`) : '',
    section('Slices', sliceSection(summary, gates, ci), 'Most frequent values of each declared slice family on the holdout.'),
    section('Gates', gateList(gates)),
    section('Method', methodNotes(summary)),
  ];
  return htmlPage(title, STYLE, sections);
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 6px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 18px; }
.subtitle { color: var(--muted); margin: 0; }
.versions { font-size: 16px; margin: 10px 0 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; color: #fff; margin-left: 8px; font-size: 13px; vertical-align: 1px; }
.badge.pass { background: ${PASS_COLOR}; } .badge.fail { background: ${FAIL_COLOR}; }
.comparison-note { margin: 8px 0 0; padding: 6px 10px; border-left: 3px solid #d9730d; background: #fff7ed; }
.links { margin: 8px 0 0; padding: 0; list-style: none; display: flex; gap: 14px; flex-wrap: wrap; color: var(--muted); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 18px; }
.card { flex: 1 1 180px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg-soft); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-variant-numeric: tabular-nums; }
section { margin: 0 0 22px; }
.note { color: var(--muted); margin: 0 0 8px; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 0 24px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--bg-soft); font-weight: 600; white-space: normal; vertical-align: bottom; }
.table-wrap { overflow-x: auto; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
.better { color: ${PASS_COLOR}; } .worse { color: ${FAIL_COLOR}; } .same { color: var(--muted); }
svg { display: block; max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg text { fill: var(--fg); } svg .muted { fill: var(--muted); }
ul.gates { list-style: none; padding: 0; margin: 0; }
ul.gates li { padding: 6px 10px; border-left: 4px solid; margin-bottom: 6px; background: var(--bg-soft); }
ul.gates li.pass { border-color: ${PASS_COLOR}; } ul.gates li.fail { border-color: ${FAIL_COLOR}; }
ul.gates .mark { font-weight: 700; margin-right: 6px; }
ul.gates li.pass .mark { color: ${PASS_COLOR}; } ul.gates li.fail .mark { color: ${FAIL_COLOR}; }
.method { color: var(--muted); font-size: 13px; }
.method dt { font-weight: 600; color: var(--fg); } .method dd { margin: 0 0 6px 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: 0; }
`;

// ---------- sections ----------

function header({ summary, gates, title, links, notes }: EvaluationReportInput): string {
  const applied = gates.results.length;
  const passedCount = gates.results.filter((r) => r.passed).length;
  const decision = gates.passed
    ? `<span class="badge pass" data-metric="gates.passed">gates passed</span>`
    : `<span class="badge fail" data-metric="gates.passed">gates failed</span>`;
  const champion = summary.championVersion === null ? 'no champion yet' : `champion <strong data-metric="champion.version">v${esc(summary.championVersion)}</strong>`;
  const linkItems = (links ?? []).map((link) => `<li>${renderLink(link)}</li>`).join('');
  return `<header>
<h1>${esc(title)}</h1>
<p class="subtitle">model <strong>${esc(summary.model)}</strong> · holdout day <strong>${esc(summary.holdoutDay)}</strong> · <span data-metric="rows">${formatCount(summary.rows)}</span> rows</p>
<p class="versions">candidate <strong data-metric="candidate.version">v${esc(summary.candidateVersion)}</strong> vs ${champion} ${decision} <span class="note">${passedCount} of ${applied} gates passed</span></p>
${linkItems ? `<ul class="links">${linkItems}</ul>` : ''}
${(notes ?? []).map((note) => `<p class="comparison-note" data-metric="comparison.note">${esc(note)}</p>`).join('\n')}
</header>`;
}

function keyNumbers(summary: OfflineEvaluationSummary, gates: OfflineGatesResult): string {
  const cards = [
    card('Candidate AUC', formatMetric(metricValue(summary.candidate, 'auc')), 'headline.candidate.auc', `log loss ${formatMetric(metricValue(summary.candidate, 'logLoss'))}`),
  ];
  if (summary.champion) {
    const d = deltaOf(summary.deltas, 'auc');
    cards.push(card('Champion AUC', formatMetric(metricValue(summary.champion, 'auc')), 'headline.champion.auc', `log loss ${formatMetric(metricValue(summary.champion, 'logLoss'))}`));
    cards.push(
      card('AUC difference', formatDifference(d.delta), 'headline.delta.auc', `${formatConfidence(summary.confidence)} CI ${formatDifference(d.low)} .. ${formatDifference(d.high)}`),
    );
  }
  const failed = gates.results.filter((r) => !r.passed).length;
  cards.push(card('Gates', gates.passed ? 'passed' : `${failed} failed`, 'headline.gates', `${gates.results.length} applied`));
  return `<div class="cards">${cards.join('')}</div>`;
}

function card(label: string, value: string, dataMetric: string, detail: string): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-metric="${esc(dataMetric)}">${esc(value)}</div><div class="detail">${esc(detail)}</div></div>`;
}

function section(heading: string, body: string, note?: string): string {
  return `<section><h2>${esc(heading)}</h2>${note ? `<p class="note">${esc(note)}</p>` : ''}${body}</section>`;
}

function metricTable(summary: OfflineEvaluationSummary, ci: string): string {
  const hasChampion = summary.champion !== null;
  const head = hasChampion
    ? `<tr><th>Metric</th><th class="text">Better</th><th>Candidate</th><th>Champion</th><th>Difference</th><th>${esc(ci)} interval</th><th class="text">Verdict</th></tr>`
    : `<tr><th>Metric</th><th class="text">Better</th><th>Candidate</th></tr>`;
  const rows = METRICS.map((m) => {
    const candidate = `<td data-metric="candidate.${m.name}">${formatMetric(metricValue(summary.candidate, m.name))}</td>`;
    const cells = [`<td class="text" title="${esc(m.name)}">${esc(m.label)}</td>`, `<td class="text">${m.higherIsBetter ? 'higher' : 'lower'}</td>`, candidate];
    if (hasChampion) {
      const d = deltaOf(summary.deltas, m.name);
      const v = verdict(m, d);
      cells.push(
        `<td data-metric="champion.${m.name}">${formatMetric(metricValue(summary.champion, m.name))}</td>`,
        `<td class="${v.className}" data-metric="delta.${m.name}">${formatDifference(d.delta)}</td>`,
        `<td>${intervalHtml(d, `delta.${m.name}`)}</td>`,
        `<td class="text ${v.className}">${esc(v.text)}</td>`,
      );
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<div class="table-wrap"><table>${head}${rows.join('')}</table></div>`;
}

function intervalHtml(d: MetricDelta, key: string): string {
  return `<span data-metric="${esc(key)}.low">${formatDifference(d.low)}</span> .. <span data-metric="${esc(key)}.high">${formatDifference(d.high)}</span>`;
}

/** Better/worse when the interval excludes zero, in the metric's direction. */
function verdict(m: MetricDefinition, d: MetricDelta): { text: string; className: string } {
  if (!Number.isFinite(d.low) || !Number.isFinite(d.high)) return { text: 'n/a', className: 'same' };
  const [low, high] = oriented(m, d);
  if (low > 0) return { text: 'better', className: 'better' };
  if (high < 0) return { text: 'worse', className: 'worse' };
  return { text: 'no clear difference', className: 'same' };
}

function sliceSection(summary: OfflineEvaluationSummary, gates: OfflineGatesResult, ci: string): string {
  if (summary.slices.length === 0) return '<p class="note">No slices are declared in the model spec.</p>';
  const hasChampion = summary.champion !== null;
  const gatesBySlice = new Map<string, OfflineGateCheck[]>();
  for (const r of gates.results) if (r.slice !== undefined) gatesBySlice.set(r.slice, [...(gatesBySlice.get(r.slice) ?? []), r]);
  const head = `<tr><th>Slice</th><th>Rows</th><th>Positive rate</th><th>Candidate AUC</th>${
    hasChampion ? `<th>Champion AUC</th><th>AUC difference</th><th>${esc(ci)} interval</th>` : ''
  }<th>Candidate log loss</th>${hasChampion ? '<th>Champion log loss</th><th class="text">Gates</th>' : ''}</tr>`;
  const rows = summary.slices.map((s) => {
    const key = `slice.${s.family}=${s.value}`;
    const cells = [
      `<td class="text">${esc(s.family)} = <strong>${esc(s.value)}</strong></td>`,
      `<td data-metric="${esc(key)}.rows">${formatCount(s.rows)}</td>`,
      `<td>${formatMetric(s.candidate.positiveRate)}</td>`,
      `<td data-metric="${esc(key)}.candidate.auc">${formatMetric(metricValue(s.candidate, 'auc'))}</td>`,
    ];
    if (hasChampion) {
      const d = deltaOf(s.deltas, 'auc');
      const v = verdict(metricDefinition('auc'), d);
      cells.push(
        `<td data-metric="${esc(key)}.champion.auc">${formatMetric(metricValue(s.champion, 'auc'))}</td>`,
        `<td class="${v.className}" data-metric="${esc(key)}.delta.auc">${formatDifference(d.delta)}</td>`,
        `<td>${intervalHtml(d, `${key}.delta.auc`)}</td>`,
      );
    }
    cells.push(`<td data-metric="${esc(key)}.candidate.logLoss">${formatMetric(metricValue(s.candidate, 'logLoss'))}</td>`);
    if (hasChampion) {
      cells.push(`<td data-metric="${esc(key)}.champion.logLoss">${formatMetric(metricValue(s.champion, 'logLoss'))}</td>`);
      const checks = gatesBySlice.get(`${s.family}=${s.value}`) ?? [];
      const failed = checks.filter((c) => !c.passed).length;
      cells.push(
        checks.length === 0
          ? '<td class="text same">not gated</td>'
          : failed === 0
            ? `<td class="text better">${checks.length} passed</td>`
            : `<td class="text worse">${failed} of ${checks.length} failed</td>`,
      );
    }
    return `<tr>${cells.join('')}</tr>`;
  });
  return `${sliceChart(summary)}<div class="table-wrap"><table>${head}${rows.join('')}</table></div>`;
}

function gateList(gates: OfflineGatesResult): string {
  if (gates.results.length === 0) return '<p class="note">No gates applied.</p>';
  // Failures first: they are why a candidate was stopped.
  const ordered = [...gates.results.filter((r) => !r.passed), ...gates.results.filter((r) => r.passed)];
  const items = ordered.map(
    (r) => `<li class="${r.passed ? 'pass' : 'fail'}" data-gate="${esc(r.gate)}" data-gate-metric="${esc(r.metric)}"${r.slice === undefined ? '' : ` data-gate-slice="${esc(r.slice)}"`}><span class="mark">${r.passed ? '✓ pass' : '✗ fail'}</span>${esc(r.message)}</li>`,
  );
  return `<ul class="gates">${items.join('')}</ul>`;
}

function methodNotes(summary: OfflineEvaluationSummary): string {
  return `<dl class="method">
<dt>Predicted class</dt><dd>score ≥ ${DECISION_THRESHOLD} is positive (accuracy, F1): a score at the threshold counts as positive, as on the ROC and PR curves.</dd>
<dt>PR AUC</dt><dd>average precision, Σ (Rₙ − Rₙ₋₁) · Pₙ over score thresholds (as scikit-learn).</dd>
<dt>Expected calibration error</dt><dd>Σ over 10 equal-width score bins of |mean predicted − fraction positive| × share of rows in the bin.</dd>
<dt>Intervals</dt><dd>paired bootstrap: ${formatCount(summary.bootstrapSamples)} resamples of the holdout rows, both models scored on each; ${esc(formatConfidence(summary.confidence))} percentile intervals of candidate − champion. Slices are resampled within the slice.</dd>
<dt>Regression gates</dt><dd>non-inferiority: pass when the interval rules out a loss larger than the allowed regression.</dd>
</dl>`;
}

function renderLink(link: EvaluationReportLink): string {
  if (/^(https?:\/\/|\.{0,2}\/|#)/i.test(link.href) && !/^\/\//.test(link.href)) return `<a href="${esc(link.href)}">${esc(link.label)}</a>`;
  return `${esc(link.label)}: <code>${esc(link.href)}</code>`;
}

// ---------- charts ----------

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function scale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  return (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);
}

function svgOpen(frame: Frame, label: string, kind: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${esc(kind)}" role="img" aria-label="${esc(label)}" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}">`;
}

function n1(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** Square unit axes (0..1 both ways) with grid lines every 0.2 and the diagonal. */
function unitAxes(frame: Frame, x: (v: number) => number, y: (v: number) => number, xLabel: string, yLabel: string, diagonalLabel: string): string {
  const parts: string[] = [];
  for (let t = 0; t <= 5; t++) {
    const v = t / 5;
    parts.push(`<line x1="${n1(x(v))}" y1="${n1(y(0))}" x2="${n1(x(v))}" y2="${n1(y(1))}" stroke="#eef1f4"/>`);
    parts.push(`<line x1="${n1(x(0))}" y1="${n1(y(v))}" x2="${n1(x(1))}" y2="${n1(y(v))}" stroke="#eef1f4"/>`);
    parts.push(`<text x="${n1(x(v))}" y="${n1(y(0) + 15)}" text-anchor="middle" class="muted">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${n1(x(0) - 6)}" y="${n1(y(v) + 4)}" text-anchor="end" class="muted">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${n1(x(0))}" y="${n1(y(1))}" width="${n1(x(1) - x(0))}" height="${n1(y(0) - y(1))}" fill="none" stroke="#9aa4ae"/>`);
  parts.push(`<line x1="${n1(x(0))}" y1="${n1(y(0))}" x2="${n1(x(1))}" y2="${n1(y(1))}" stroke="#9aa4ae" stroke-dasharray="3 4"><title>${esc(diagonalLabel)}</title></line>`);
  parts.push(`<text x="${n1((x(0) + x(1)) / 2)}" y="${n1(frame.height - 6)}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${n1((y(0) + y(1)) / 2)}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  return parts.join('');
}

function legend(x: number, y: number, entries: { label: string; color: string; dashed: boolean }[]): string {
  return entries
    .map(
      (e, i) =>
        `<line x1="${x}" y1="${y + i * 16}" x2="${x + 22}" y2="${y + i * 16}" stroke="${e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="6 3"' : ''}/><text x="${x + 28}" y="${y + i * 16 + 4}">${esc(e.label)}</text>`,
    )
    .join('');
}

function rocChart(curves: EvaluationCurves): string {
  const frame: Frame = { width: 440, height: 400, left: 48, right: 16, top: 12, bottom: 44 };
  const side = Math.min(frame.width - frame.left - frame.right, frame.height - frame.top - frame.bottom);
  const x = scale([0, 1], [frame.left, frame.left + side]);
  const y = scale([0, 1], [frame.top + side, frame.top]);
  const parts = [svgOpen(frame, 'ROC curves of candidate and champion', 'roc'), unitAxes(frame, x, y, 'False positive rate', 'True positive rate', 'random ranking')];
  const entries: { label: string; color: string; dashed: boolean }[] = [];
  const models: [string, RocPoint[] | undefined, string, boolean][] = [
    ['champion', curves.champion?.roc, CHAMPION_COLOR, true],
    ['candidate', curves.candidate.roc, CANDIDATE_COLOR, false],
  ];
  for (const [name, roc, color, dashed] of models) {
    if (roc === undefined) continue;
    if (roc.length === 0) {
      entries.push({ label: `${name}: undefined (one class)`, color, dashed });
      continue;
    }
    const points = roc.map((p) => `${n1(x(p.fpr))},${n1(y(p.tpr))}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 3"' : ''} data-series="${name}"/>`);
    entries.push({ label: name, color, dashed });
  }
  parts.push(legend(x(0.55), y(0.2), entries.reverse()));
  parts.push('</svg>');
  return parts.join('');
}

function calibrationChart(curves: EvaluationCurves): string {
  const frame: Frame = { width: 440, height: 470, left: 48, right: 16, top: 12, bottom: 44 };
  const side = 344;
  const histogramTop = frame.top + side + 34;
  const histogramHeight = 44;
  frame.height = histogramTop + histogramHeight + 30;
  const x = scale([0, 1], [frame.left, frame.left + side]);
  const y = scale([0, 1], [frame.top + side, frame.top]);
  const axesFrame = { ...frame, height: frame.top + side + 44 };
  const parts = [svgOpen(frame, 'Calibration curves of candidate and champion', 'calibration'), unitAxes(axesFrame, x, y, 'Mean predicted probability', 'Fraction positive', 'perfect calibration')];
  const models: [string, CalibrationBin[] | undefined, string, boolean][] = [
    ['champion', curves.champion?.calibration, CHAMPION_COLOR, true],
    ['candidate', curves.candidate.calibration, CANDIDATE_COLOR, false],
  ];
  const maxCount = Math.max(1, ...models.flatMap(([, bins]) => (bins ?? []).map((b) => b.count)));
  const present = models.filter(([, bins]) => bins !== undefined) as [string, CalibrationBin[], string, boolean][];
  for (const [name, bins, color, dashed] of present) {
    const filled = bins.filter((b) => typeof b.meanPredicted === 'number' && typeof b.fractionPositive === 'number');
    const points = filled.map((b) => `${n1(x(b.meanPredicted!))},${n1(y(b.fractionPositive!))}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 3"' : ''} data-series="${name}"/>`);
    for (const b of filled) {
      parts.push(
        `<circle cx="${n1(x(b.meanPredicted!))}" cy="${n1(y(b.fractionPositive!))}" r="3.5" fill="${color}"><title>${esc(`${name}, scores ${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: mean predicted ${formatMetric(b.meanPredicted)}, fraction positive ${formatMetric(b.fractionPositive)}, ${formatCount(b.count)} rows`)}</title></circle>`,
      );
    }
  }
  // Rows per bin, side by side per model, on a shared scale.
  const barWidth = side / 10 / (present.length + 1);
  present.forEach(([name, bins, color], m) => {
    bins.forEach((b, i) => {
      const h = (b.count / maxCount) * histogramHeight;
      parts.push(
        `<rect x="${n1(x(i / 10) + barWidth * (m + 0.5))}" y="${n1(histogramTop + histogramHeight - h)}" width="${n1(barWidth)}" height="${n1(h)}" fill="${color}" opacity="0.75"><title>${esc(`${name}, scores ${b.lower.toFixed(1)}–${b.upper.toFixed(1)}: ${formatCount(b.count)} rows`)}</title></rect>`,
      );
    });
  });
  parts.push(`<line x1="${n1(x(0))}" y1="${histogramTop + histogramHeight}" x2="${n1(x(1))}" y2="${histogramTop + histogramHeight}" stroke="#9aa4ae"/>`);
  parts.push(`<text x="${n1(x(0) - 6)}" y="${histogramTop + 10}" text-anchor="end" class="muted">${formatCount(maxCount)}</text>`);
  parts.push(`<text x="${n1((x(0) + x(1)) / 2)}" y="${histogramTop + histogramHeight + 16}" text-anchor="middle" class="muted">rows per score bin</text>`);
  parts.push(legend(x(0.05), y(0.93), present.map(([name, , color, dashed]) => ({ label: name, color, dashed })).reverse()));
  parts.push('</svg>');
  return parts.join('');
}

function deltaChart(summary: OfflineEvaluationSummary, gates: OfflineGatesResult): string {
  const rowHeight = 30;
  const frame: Frame = { width: 900, height: 0, left: 210, right: 200, top: 26, bottom: 34 };
  frame.height = frame.top + METRICS.length * rowHeight + frame.bottom;
  const allowed = new Map<MetricName, number>();
  for (const r of gates.results) if (r.gate === 'maxRegression') allowed.set(r.metric, -Math.abs(r.threshold));
  const rows = METRICS.map((m) => {
    const d = deltaOf(summary.deltas, m.name);
    const sign = m.higherIsBetter ? 1 : -1;
    const [low, high] = oriented(m, d);
    return { m, value: sign * d.delta, low, high, allowed: allowed.get(m.name) };
  });
  const extent = Math.max(0.005, ...rows.flatMap((r) => [r.value, r.low, r.high, r.allowed ?? 0].filter(Number.isFinite).map(Math.abs))) * 1.15;
  const x = scale([-extent, extent], [frame.left, frame.width - frame.right]);
  const bottom = frame.height - frame.bottom;
  const parts = [svgOpen(frame, 'Metric differences with confidence intervals', 'deltas')];
  for (const t of niceTicks(-extent, extent, 6)) {
    parts.push(`<line x1="${n1(x(t))}" y1="${frame.top}" x2="${n1(x(t))}" y2="${bottom}" stroke="${t === 0 ? '#6b7280' : '#eef1f4'}"/>`);
    parts.push(`<text x="${n1(x(t))}" y="${bottom + 14}" text-anchor="middle" class="muted">${esc(formatDifference(t))}</text>`);
  }
  parts.push(`<text x="${n1(x(-extent))}" y="${frame.top - 10}" class="muted">← candidate worse</text>`);
  parts.push(`<text x="${n1(x(extent))}" y="${frame.top - 10}" text-anchor="end" class="muted">candidate better →</text>`);
  rows.forEach((r, i) => {
    const cy = frame.top + i * rowHeight + rowHeight / 2;
    parts.push(`<text x="${frame.left - 10}" y="${n1(cy + 4)}" text-anchor="end">${esc(r.m.label)}</text>`);
    if (r.allowed !== undefined) {
      parts.push(`<line x1="${n1(x(r.allowed))}" y1="${n1(cy - 10)}" x2="${n1(x(r.allowed))}" y2="${n1(cy + 10)}" stroke="${FAIL_COLOR}" stroke-width="2"><title>${esc(`allowed regression ${formatDifference(r.allowed)}`)}</title></line>`);
    }
    if (!Number.isFinite(r.value) || !Number.isFinite(r.low) || !Number.isFinite(r.high)) {
      parts.push(`<text x="${n1(x(0) + 6)}" y="${n1(cy + 4)}" class="muted">could not be computed</text>`);
      return;
    }
    const color = r.low > 0 ? PASS_COLOR : r.high < 0 ? FAIL_COLOR : NEUTRAL_COLOR;
    parts.push(`<line x1="${n1(x(r.low))}" y1="${n1(cy)}" x2="${n1(x(r.high))}" y2="${n1(cy)}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<line x1="${n1(x(r.low))}" y1="${n1(cy - 6)}" x2="${n1(x(r.low))}" y2="${n1(cy + 6)}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<line x1="${n1(x(r.high))}" y1="${n1(cy - 6)}" x2="${n1(x(r.high))}" y2="${n1(cy + 6)}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<circle cx="${n1(x(r.value))}" cy="${n1(cy)}" r="5" fill="${color}"/>`);
    parts.push(`<text x="${frame.width - frame.right + 10}" y="${n1(cy + 4)}">${esc(`${formatDifference(r.value)}  [${formatDifference(r.low)}, ${formatDifference(r.high)}]`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function sliceChart(summary: OfflineEvaluationSummary): string {
  const hasChampion = summary.champion !== null;
  const barHeight = 11;
  const rowHeight = hasChampion ? 2 * barHeight + 10 : barHeight + 10;
  const frame: Frame = { width: 900, height: 0, left: 230, right: 70, top: 30, bottom: 30 };
  frame.height = frame.top + summary.slices.length * rowHeight + frame.bottom;
  const aucs = summary.slices.flatMap((s) => [metricValue(s.candidate, 'auc'), metricValue(s.champion, 'auc')]).filter(Number.isFinite);
  // Bars start at 0.5 (a random ranking) unless a slice is worse than random.
  const floor = Math.min(0.5, Math.floor((Math.min(1, ...aucs) - 0.05) * 10) / 10);
  const x = scale([floor, 1], [frame.left, frame.width - frame.right]);
  const bottom = frame.height - frame.bottom;
  const parts = [svgOpen(frame, 'ROC AUC per slice', 'slices')];
  for (const t of niceTicks(floor, 1, 6)) {
    parts.push(`<line x1="${n1(x(t))}" y1="${frame.top}" x2="${n1(x(t))}" y2="${bottom}" stroke="#eef1f4"/>`);
    parts.push(`<text x="${n1(x(t))}" y="${bottom + 14}" text-anchor="middle" class="muted">${t.toFixed(2)}</text>`);
  }
  parts.push(
    `<text x="${frame.left}" y="14"><tspan fill="${CANDIDATE_COLOR}">■</tspan> candidate AUC${hasChampion ? `   <tspan fill="${CHAMPION_COLOR}">■</tspan> champion AUC` : ''}   <tspan class="muted">(bars start at ${floor.toFixed(1)}; 0.5 = random)</tspan></text>`,
  );
  summary.slices.forEach((s, i) => {
    const top = frame.top + i * rowHeight + 4;
    parts.push(`<text x="${frame.left - 10}" y="${n1(top + (hasChampion ? barHeight + 4 : barHeight - 1))}" text-anchor="end">${esc(`${s.family} = ${s.value}`)} <tspan class="muted">(${formatCount(s.rows)})</tspan></text>`);
    const bars: [string, number, string][] = [['candidate', metricValue(s.candidate, 'auc'), CANDIDATE_COLOR]];
    if (hasChampion) bars.push(['champion', metricValue(s.champion, 'auc'), CHAMPION_COLOR]);
    bars.forEach(([name, auc, color], b) => {
      const y = top + b * barHeight;
      if (!Number.isFinite(auc)) {
        parts.push(`<text x="${frame.left + 4}" y="${n1(y + barHeight - 2)}" class="muted">${name}: n/a</text>`);
        return;
      }
      parts.push(`<rect x="${frame.left}" y="${n1(y)}" width="${n1(Math.max(0.5, x(auc) - frame.left))}" height="${barHeight - 1}" fill="${color}"><title>${esc(`${s.family} = ${s.value}, ${name} AUC ${formatMetric(auc)}`)}</title></rect>`);
      parts.push(`<text x="${n1(x(auc) + 4)}" y="${n1(y + barHeight - 2)}" class="muted">${formatMetric(auc)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/** About `count` round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toFixed(10)));
  return ticks;
}

// ---------- helpers ----------

/** A metric's delta as numbers (NaN for null or missing). */
function deltaOf(deltas: Partial<Record<MetricName, Partial<Record<keyof MetricDelta, number | null>>>> | null | undefined, name: MetricName): MetricDelta {
  const d = deltas?.[name];
  const num = (v: number | null | undefined) => (typeof v === 'number' ? v : NaN);
  return { delta: num(d?.delta), low: num(d?.low), high: num(d?.high) };
}

/** The interval oriented so that positive = candidate better. */
function oriented(m: MetricDefinition, d: MetricDelta): [number, number] {
  return m.higherIsBetter ? [d.low, d.high] : [-d.high, -d.low];
}

