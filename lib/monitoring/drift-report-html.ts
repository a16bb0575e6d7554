/**
 * The drift report: one self-contained HTML file (inline CSS and SVG, no scripts, no external
 * resources; a Content-Security-Policy meta tag enforces it), in the style of the evaluation
 * report: per feature the reference and current histograms side by side and each test's verdict,
 * schema changes, the class mixes, realized and estimated accuracy, and the trigger's decision.
 * Key numbers carry `data-metric` attributes (`feature.requests.distance.score`, `summary.drifted`,
 * `accuracy.estimated`) so tests find them without parsing text. The same input gives the same bytes.
 */
import { escapeHtml as esc, htmlPage } from '../evidence/html-page';
import type { TriggerCrossing } from '../policy/drift-trigger';
import { DRIFT_TESTS } from '../stats/drift-tests';
import type { ClassMixDrift, DriftReportBody, FeatureDrift } from './drift-report';

const REFERENCE_COLOR = '#6b7280';
const CURRENT_COLOR = '#1f5fbf';
const DRIFT_COLOR = '#c62828';
const STABLE_COLOR = '#1a7f37';

export function renderDriftReport(body: DriftReportBody, crossing: TriggerCrossing): string {
  const title = `Drift report: ${body.model}`;
  const champion = body.champion ? `champion <strong data-metric="champion.version">v${esc(body.champion.version)}</strong>` : 'no champion';
  const badge = crossing.crossed ? `<span class="badge drift" data-metric="trigger.crossed">trigger crossed</span>` : `<span class="badge stable" data-metric="trigger.crossed">trigger not crossed</span>`;
  const sections = [
    `<header><h1>${esc(title)}</h1>
<p class="subtitle">${champion} · window <strong>${esc(body.window.start)}</strong> to <strong>${esc(body.window.end)}</strong> · <span data-metric="requests">${esc(body.requests)}</span> requests · status <strong data-metric="status">${esc(body.status)}</strong></p>
<p class="versions">${badge} <span class="note">${esc(crossing.reason)}</span></p>
<p class="note">${esc(body.message)}</p>
<p class="note">Reference: the datasets the champion learned from (${esc(body.reference.datasets.map((d) => d.day).join(', ') || 'none')}), ${esc(body.reference.rows)} rows.</p></header>`,
    cards(body),
    body.features.length > 0 ? section('Requests: features as the gateway logged them', featureTable(body.features, 'requests') + histograms(body.features, 'requests')) : '',
    body.ingested
      ? section(
          `Ingested in the window: ${body.ingested.datasets.map((d) => d.day).join(', ')} (${body.ingested.rows} rows)`,
          featureTable(body.ingested.features, 'ingested') + histograms(body.ingested.features, 'ingested') + (body.ingested.label ? classMix('Label mix (ingested)', body.ingested.label, 'label.ingested') : ''),
        )
      : '',
    section('Schema', schemaTable(body)),
    body.prediction || body.label
      ? section('Predictions and labels', (body.prediction ? classMix('Predicted class mix vs the champion on its held-out day', body.prediction, 'prediction') : '') + (body.label ? classMix('Label mix of the feedback vs the training data', body.label, 'label') : ''))
      : '',
    body.performance ? section('Accuracy', performanceTable(body)) : '',
    section('Method', methodNotes()),
  ];
  return htmlPage(title, STYLE, sections);
}

const STYLE = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2328; background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 0 0 6px; } h3 { font-size: 14px; margin: 10px 0 4px; }
header { border-bottom: 1px solid #d1d9e0; padding-bottom: 14px; margin-bottom: 18px; }
.subtitle, .note { color: #59636e; margin: 4px 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-weight: 600; color: #fff; font-size: 13px; }
.badge.drift { background: ${DRIFT_COLOR}; } .badge.stable { background: ${STABLE_COLOR}; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 18px; }
.card { flex: 1 1 180px; border: 1px solid #d1d9e0; border-radius: 8px; padding: 10px 14px; background: #f6f8fa; }
.card .label { color: #59636e; font-size: 12px; text-transform: uppercase; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
section { margin: 0 0 22px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #d1d9e0; text-align: right; }
th { background: #f6f8fa; } th:first-child, td:first-child, td.text { text-align: left; }
.drifted { color: ${DRIFT_COLOR}; font-weight: 600; } .stable { color: ${STABLE_COLOR}; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px 24px; }
svg { display: block; max-width: 100%; height: auto; font: 10px system-ui, sans-serif; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px; }
dt { font-weight: 600; } dd { margin: 0 0 6px; color: #59636e; }
`;

function cards(body: DriftReportBody): string {
  const items = [
    ['Drifted features', `${body.summary.drifted.length} of ${body.summary.tested.length}`, 'summary.drifted'],
    ['Estimated accuracy', pct(body.performance?.estimated ?? null), 'accuracy.estimated'],
    ['Realized accuracy', pct(body.performance?.realized ?? null), 'accuracy.realized'],
    ['Labels arrived', body.performance ? `${body.performance.labelled} of ${body.performance.predictions}` : 'n/a', 'accuracy.labelled'],
  ];
  return `<div class="cards">${items.map(([label, value, key]) => `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-metric="${esc(key)}">${esc(value)}</div></div>`).join('')}</div>`;
}

function featureTable(features: readonly FeatureDrift[], source: string): string {
  const rows = features.map((f) => {
    const r = f.result;
    const verdict = r.score === null ? `<span>not tested: ${esc(r.note ?? '')}</span>` : r.drifted ? '<span class="drifted">drift</span>' : '<span class="stable">no drift</span>';
    const key = `feature.${source}.${f.feature}`;
    return `<tr><td class="text">${esc(f.feature)} <span class="note">${esc(f.kind)}</span></td><td class="text">${esc(DRIFT_TESTS[r.method].title)} (${esc(f.choice)})</td><td data-metric="${esc(key)}.score">${num(r.score)}</td><td>${r.pValue === undefined ? '' : num(r.pValue)}</td><td>${esc(r.threshold)}${DRIFT_TESTS[r.method].scoreKind === 'p_value' ? ' (p)' : ''}</td><td data-metric="${esc(key)}.drifted">${verdict}</td><td>${esc(f.reference.rows)} / ${esc(f.current.rows)}</td><td>${pct(f.reference.rows ? f.reference.missing / f.reference.rows : 0)} / ${pct(f.current.rows ? f.current.missing / f.current.rows : 0)}</td></tr>`;
  });
  return `<table><thead><tr><th>feature</th><th class="text">test (chosen by)</th><th>score</th><th>p-value</th><th>threshold</th><th>verdict</th><th>rows ref / cur</th><th>missing ref / cur</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function histograms(features: readonly FeatureDrift[], source: string): string {
  const legend = `<p class="note"><span class="swatch" style="background:${REFERENCE_COLOR}"></span>reference<span class="swatch" style="background:${CURRENT_COLOR}"></span>current (share of rows per bin)</p>`;
  return `${legend}<div class="grid">${features.map((f) => `<div><h3>${esc(f.feature)}</h3>${histogram(f, source)}</div>`).join('')}</div>`;
}

function histogram(f: FeatureDrift, source: string): string {
  const { labels, reference, current } = f.histogram;
  const width = 340;
  const height = 150;
  const top = 8;
  const bottom = 40;
  const left = 34;
  const plotW = width - left - 6;
  const plotH = height - top - bottom;
  const max = Math.max(...reference, ...current, 1e-9);
  const slot = plotW / Math.max(labels.length, 1);
  const bar = Math.max(1, slot / 2 - 1);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const bars = labels
    .map((label, i) => {
      const x = left + i * slot;
      const r = reference[i] ?? 0;
      const c = current[i] ?? 0;
      const tick = labels.length <= 12 || i % Math.ceil(labels.length / 8) === 0 ? `<text x="${n1(x + slot / 2)}" y="${height - bottom + 12}" text-anchor="end" transform="rotate(-35 ${n1(x + slot / 2)} ${height - bottom + 12})">${esc(label.length > 14 ? `${label.slice(0, 13)}…` : label)}</text>` : '';
      return `<rect x="${n1(x)}" y="${n1(y(r))}" width="${n1(bar)}" height="${n1(top + plotH - y(r))}" fill="${REFERENCE_COLOR}"><title>${esc(label)}: reference ${pct(r)}</title></rect><rect x="${n1(x + bar)}" y="${n1(y(c))}" width="${n1(bar)}" height="${n1(top + plotH - y(c))}" fill="${CURRENT_COLOR}"><title>${esc(label)}: current ${pct(c)}</title></rect>${tick}`;
    })
    .join('');
  return `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(f.feature)}: reference vs current" data-histogram="${esc(source)}.${esc(f.feature)}"><line x1="${left}" y1="${top + plotH}" x2="${width - 6}" y2="${top + plotH}" stroke="#999"/><text x="${left - 4}" y="${top + 8}" text-anchor="end">${pct(max)}</text><text x="${left - 4}" y="${top + plotH}" text-anchor="end">0</text>${bars}</svg>`;
}

function classMix(title: string, mix: ClassMixDrift, key: string): string {
  const rows = mix.reference.shares.map((r, k) => `<tr><td class="text">class ${k}</td><td>${pct(r)}</td><td data-metric="${esc(key)}.share.${k}">${pct(mix.current.shares[k] ?? 0)}</td></tr>`);
  const verdict = mix.result.drifted ? '<span class="drifted">drift</span>' : '<span class="stable">no drift</span>';
  return `<h3>${esc(title)}</h3><p class="note">${esc(DRIFT_TESTS[mix.result.method].title)} ${num(mix.result.score)} (threshold ${esc(mix.result.threshold)}): <span data-metric="${esc(key)}.drifted">${verdict}</span>; ${esc(mix.reference.rows)} reference rows, ${esc(mix.current.rows)} current</p><table><thead><tr><th>class</th><th>reference</th><th>current</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function schemaTable(body: DriftReportBody): string {
  if (body.schema.length === 0) return '<p class="note" data-metric="schema.changes">no schema changes: every feature present with its type, no new columns</p>';
  const rows = body.schema.map((c) => `<tr><td class="text">${esc(c.source)}</td><td class="text">${esc(c.column)}</td><td class="text drifted">${esc(c.change)}</td><td class="text">${esc(c.reference ?? '—')}</td><td class="text">${esc(c.current ?? '—')}</td></tr>`);
  return `<table data-metric="schema.changes"><thead><tr><th>source</th><th class="text">column</th><th class="text">change</th><th class="text">reference</th><th class="text">current</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function performanceTable(body: DriftReportBody): string {
  const p = body.performance!;
  const calibration = p.calibration
    ? `calibrated (isotonic) on the champion's held-out day ${esc(p.calibration.day)} (${esc(p.calibration.rows)} rows, accuracy there ${pct(p.calibration.accuracy)})`
    : 'not calibrated: the champion has no offline evaluation; raw probabilities';
  return `<table><thead><tr><th>what</th><th>accuracy</th><th>rows</th></tr></thead><tbody>
<tr><td class="text">realized, on the labels that arrived</td><td>${pct(p.realized)}</td><td>${esc(p.labelled)}</td></tr>
<tr><td class="text">estimated (CBPE), the same labelled rows</td><td>${pct(p.estimatedOnLabelled)}</td><td>${esc(p.labelled)}</td></tr>
<tr><td class="text">estimated (CBPE), every prediction of the window</td><td>${pct(p.estimated)}</td><td>${esc(p.predictions)}</td></tr>
</tbody></table><p class="note">${esc(p.pending)} predictions still wait for a label. Estimates: ${calibration}.</p>`;
}

function methodNotes(): string {
  const tests = Object.values(DRIFT_TESTS)
    .map((t) => `<dt>${esc(t.title)} (${esc(t.name)}, default threshold ${esc(t.defaultThreshold)})</dt><dd>${esc(t.score)}</dd>`)
    .join('');
  return `<dl>${tests}<dt>Automatic choice</dt><dd>When either sample has at most 1000 rows: Kolmogorov–Smirnov for numbers with more than 5 distinct values, chi-square otherwise; when both are larger: normed Wasserstein for such numbers, Jensen–Shannon otherwise (Evidently's rule, on the smaller sample). Missing values are left out of the tests and reported as schema drift.</dd></dl>`;
}

function section(heading: string, content: string): string {
  return `<section><h2>${esc(heading)}</h2>${content}</section>`;
}

function num(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  if (x !== 0 && Math.abs(x) < 1e-3) return x.toExponential(2);
  return x.toFixed(4);
}

function pct(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}

function n1(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

