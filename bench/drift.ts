/**
 * bench:drift — data drift over about a million rows × the flight-delay model's features
 * (reference: January 2001, current: June 2001, from flights-3m), in one run:
 * - Retrain's monitor: its DuckDB value counts (lib/data/feature-value-counts.ts, one scan per
 *   sample, grouping sets) and its tests with the automatic choice (lib/monitoring/drift-report.ts
 *   compareFeatures, which also builds the report's display histograms);
 * - a DuckDB-only aggregation: the same per-value histograms and the same distances (normed
 *   Wasserstein, Jensen–Shannon) in SQL, nothing computed in TypeScript;
 * - Evidently's data drift preset on the same rows (bench/evidently-drift-baseline.py, in the
 *   pinned venv of lib/dev-stack/python-environment.ts).
 *
 * Every contender starts from the rows in memory: DuckDB tables for the first two (the features
 * already computed from the spec's expressions), pandas DataFrames read from the same rows'
 * Parquet for Evidently; loading is not timed. One more line times the monitor's production path,
 * the same value counts straight from those Parquet files (scan included). rows/s = (reference rows + current rows) ÷ the
 * median seconds of BENCH_DRIFT_REPEATS runs after one untimed run. Scores must agree to 1e-6 where the same test is
 * used, and the verdicts must be the same. DuckDB uses all cores; Evidently mostly one.
 *
 * Environment: BENCH_DRIFT_REFERENCE (2001-01), BENCH_DRIFT_CURRENT (2001-06) as YYYY-MM,
 * BENCH_DRIFT_REPEATS (3).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { renderTable } from '../cli/runs/version-table';
import { loadEnvironment } from '../lib/config/environment';
import { loadModelSpec } from '../lib/config/model-spec-file';
import { queryRows, withDuckDB } from '../lib/data/duckdb';
import { valueCountsQuery } from '../lib/data/feature-value-counts';
import { FLIGHTS_PARQUET } from '../lib/data/flight-delay-prep';
import { PYTHON_ENVIRONMENTS, preparePythonEnvironment } from '../lib/dev-stack/python-environment';
import { compareFeatures, type FeatureDrift } from '../lib/monitoring/drift-report';
import { MonitoringSpec } from '../lib/spec/monitoring-spec';
import type { FeatureSpec } from '../lib/spec/model-spec';
import { DRIFT_TESTS, type DriftTestName } from '../lib/stats/drift-tests';

const REFERENCE_MONTH = process.env.BENCH_DRIFT_REFERENCE ?? '2001-01';
const CURRENT_MONTH = process.env.BENCH_DRIFT_CURRENT ?? '2001-06';
const REPEATS = Number(process.env.BENCH_DRIFT_REPEATS ?? 3);
/** Issue 11's goal: at least this many times Evidently's rows/s. */
const GOAL_RATIO = 20;
const SCORE_TOLERANCE = 1e-6;
/** Evidently's names of the tests both sides have. */
const EVIDENTLY_METHODS: Record<string, DriftTestName> = { 'Wasserstein distance (normed)': 'wasserstein', 'Jensen-Shannon distance': 'jensenshannon' };

interface Score {
  feature: string;
  method: string;
  score: number;
  drifted: boolean;
}

interface EvidentlyOutput {
  python: string;
  evidently: string;
  pandas: string;
  rows: { reference: number; current: number };
  seconds: number[];
  columns: Array<{ column: string; method: string; threshold: number; score: number; drifted: boolean }>;
}

async function main(): Promise<void> {
  const spec = loadModelSpec(path.join(__dirname, '..', 'examples', 'flight-delay', 'model.json'));
  const tests = (spec.monitoring ?? MonitoringSpec.parse({})).tests;
  // The bench tables hold each feature under its name, computed from the spec's expression.
  const columns: FeatureSpec[] = spec.features.map(({ sql: _sql, ...feature }) => feature);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'retrain-bench-drift-'));
  try {
    const { rows, retrain, duckdbOnly } = await withDuckDB(async (connection) => {
      const rows = { reference: await monthTable(connection, 'bench_reference', REFERENCE_MONTH, spec.features, dir), current: await monthTable(connection, 'bench_current', CURRENT_MONTH, spec.features, dir) };
      let features: FeatureDrift[] = [];
      const retrainSeconds = await timed(async () => {
        const reference = await valueCountsQuery(connection, 'bench_reference', spec, columns, false);
        const current = await valueCountsQuery(connection, 'bench_current', spec, columns, false);
        features = compareFeatures('ingested', columns, reference.features, current.features, tests);
      });
      // The monitor's production path reads snapshot Parquet: the same rows' files, scan included (Evidently's reading is not timed).
      const fromParquet = await timed(async () => {
        const reference = await valueCountsQuery(connection, `read_parquet(${quotedString(path.join(dir, 'bench_reference.parquet'))})`, spec, columns, false);
        const current = await valueCountsQuery(connection, `read_parquet(${quotedString(path.join(dir, 'bench_current.parquet'))})`, spec, columns, false);
        compareFeatures('ingested', columns, reference.features, current.features, tests);
      });
      const retrain = {
        seconds: retrainSeconds,
        fromParquet,
        scores: features.map((f): Score => ({ feature: f.feature, method: f.result.method, score: f.result.score ?? NaN, drifted: f.result.drifted })),
      };
      const sql = duckdbOnlyQuery(columns, retrain.scores);
      let duckdbScores: Score[] = [];
      const duckdbSeconds = await timed(async () => {
        duckdbScores = (await queryRows(connection, sql)).map((r) => {
          const method = String(r.method) as DriftTestName;
          const score = Number(r.score);
          return { feature: String(r.feature), method, score, drifted: score >= DRIFT_TESTS[method].defaultThreshold };
        });
      });
      return { rows, retrain, duckdbOnly: { seconds: duckdbSeconds, scores: duckdbScores } };
    });

    const python = await preparePythonEnvironment(loadEnvironment().cacheDir, 'evidently', PYTHON_ENVIRONMENTS.evidently, (msg) => process.stderr.write(`${msg}\n`));
    const evidently = await runEvidently(python.binDir, {
      reference: path.join(dir, 'bench_reference.parquet'),
      current: path.join(dir, 'bench_current.parquet'),
      numeric: spec.features.filter((f) => f.kind === 'numeric').map((f) => f.name),
      categorical: spec.features.filter((f) => f.kind === 'categorical').map((f) => f.name),
      repeats: REPEATS,
    });
    const evidentlyScores = evidently.columns.map((c): Score => ({ feature: c.column, method: EVIDENTLY_METHODS[c.method] ?? c.method, score: c.score, drifted: c.drifted }));

    const total = rows.reference + rows.current;
    process.stdout.write(
      `reference ${REFERENCE_MONTH}: ${rows.reference} rows, current ${CURRENT_MONTH}: ${rows.current} rows; ${spec.features.length} features (${spec.features.map((f) => f.name).join(', ')})\n` +
        `Evidently ${evidently.evidently}, pandas ${evidently.pandas}, Python ${evidently.python}; ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)} at the end; ${REPEATS} runs each, median\n\n`,
    );
    const contenders = [
      { name: "Retrain's monitor (DuckDB value counts + TS tests)", runs: retrain.seconds },
      { name: "Retrain's monitor from the rows' Parquet files", runs: retrain.fromParquet },
      { name: 'DuckDB-only aggregation (histograms + distances in SQL)', runs: duckdbOnly.seconds },
      { name: `Evidently ${evidently.evidently} DataDriftPreset`, runs: evidently.seconds },
    ];
    const evidentlyRate = total / median(evidently.seconds);
    process.stdout.write(
      `${renderTable(
        ['contender', 'runs (s)', 'median s', 'rows/s', '÷ Evidently'],
        contenders.map((c) => [c.name, c.runs.map((s) => s.toFixed(3)).join(' '), median(c.runs).toFixed(3), Math.round(total / median(c.runs)).toLocaleString('en-US'), (total / median(c.runs) / evidentlyRate).toFixed(1)]),
      )}\n\n`,
    );

    const problems: string[] = [];
    const scoreRows = retrain.scores.map((r) => {
      const d = duckdbOnly.scores.find((s) => s.feature === r.feature);
      const e = evidentlyScores.find((s) => s.feature === r.feature);
      const check = (other: Score | undefined, who: string): string => {
        if (!other) return 'absent';
        if (other.method !== r.method) return `${other.method} (other test)`;
        const diff = Math.abs(other.score - r.score);
        if (!(diff <= SCORE_TOLERANCE)) problems.push(`${r.feature}: ${who} ${other.score} vs Retrain ${r.score} (|Δ| ${diff.toExponential(2)})`);
        if (other.drifted !== r.drifted) problems.push(`${r.feature}: ${who} says ${other.drifted ? 'drift' : 'no drift'}, Retrain ${r.drifted ? 'drift' : 'no drift'}`);
        return `${other.score.toFixed(6)} (|Δ| ${diff.toExponential(1)}${other.drifted ? ', drift' : ''})`;
      };
      return [r.feature, r.method, `${r.score.toFixed(6)}${r.drifted ? ' drift' : ''}`, check(d, 'DuckDB-only'), check(e, 'Evidently')];
    });
    process.stdout.write(`${renderTable(['feature', 'test', 'Retrain', 'DuckDB-only', 'Evidently'], scoreRows)}\n\n`);
    const ratio = total / median(retrain.seconds) / evidentlyRate;
    process.stdout.write(
      `Retrain's monitor: ${ratio.toFixed(1)}× Evidently's rows/s (goal >= ${GOAL_RATIO}×) -> ${ratio >= GOAL_RATIO ? 'goal met' : 'goal NOT met'}\n` +
        `scores and verdicts (tolerance ${SCORE_TOLERANCE}): ${problems.length === 0 ? 'the same' : `DIFFER\n  ${problems.join('\n  ')}`}\n`,
    );
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The month's flights as a table of the model's features (each computed by the spec's expression), also written as Parquet for Evidently. */
async function monthTable(connection: DuckDBConnection, name: string, month: string, features: readonly FeatureSpec[], dir: string): Promise<number> {
  const from = `${month}-01`;
  const to = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString().slice(0, 10);
  const select = features.map((f) => `${f.kind === 'numeric' ? `CAST((${f.sql ?? quotedIdentifier(f.name)}) AS DOUBLE)` : `CAST((${f.sql ?? quotedIdentifier(f.name)}) AS VARCHAR)`} AS ${quotedIdentifier(f.name)}`);
  await connection.run(
    `CREATE OR REPLACE TABLE ${name} AS SELECT ${select.join(', ')} FROM read_parquet(${quotedString(FLIGHTS_PARQUET)}) WHERE "date" >= TIMESTAMP '${from}' AND "date" < TIMESTAMP '${to}'`,
  );
  await connection.run(`COPY ${name} TO ${quotedString(path.join(dir, `${name}.parquet`))} (FORMAT parquet)`);
  const [count] = await queryRows(connection, `SELECT count(*) AS n FROM ${name}`);
  return Number(count!.n);
}

/**
 * One query that computes, per feature, the test Retrain chose (normed Wasserstein or
 * Jensen–Shannon) from per-value counts: Wasserstein as Σ |F_ref − F_cur| · gap over the sorted
 * distinct values, divided by the reference's population standard deviation (at least 0.001);
 * Jensen–Shannon as √(½ Σ p ln(2p/(p+q)) + q ln(2q/(p+q))) over the categories' shares.
 */
function duckdbOnlyQuery(features: readonly FeatureSpec[], chosen: readonly Score[]): string {
  const parts = features.map((f) => {
    const method = chosen.find((c) => c.feature === f.name)?.method;
    const column = quotedIdentifier(f.name);
    const counts = (table: string) => `SELECT ${column} AS v, count(*)::DOUBLE AS n FROM ${table} WHERE ${column} IS NOT NULL GROUP BY 1`;
    const joined = `j AS (SELECT coalesce(r.v, c.v) AS v, coalesce(r.n, 0) AS rn, coalesce(c.n, 0) AS cn FROM r FULL JOIN c ON r.v = c.v)`;
    let score: string;
    if (method === 'wasserstein') {
      score =
        `(WITH r AS (${counts('bench_reference')}), c AS (${counts('bench_current')}), ${joined}, ` +
        `s AS (SELECT lead(v) OVER (ORDER BY v) - v AS gap, sum(rn) OVER (ORDER BY v) / sum(rn) OVER () AS fr, sum(cn) OVER (ORDER BY v) / sum(cn) OVER () AS fc FROM j), ` +
        `m AS (SELECT sum(n * v) / sum(n) AS mean, sum(n) AS total FROM r) ` +
        `SELECT (SELECT sum(abs(fr - fc) * gap) FROM s) / greatest((SELECT sqrt(sum(r.n * (r.v - m.mean) * (r.v - m.mean)) / any_value(m.total)) FROM r, m), 0.001))`;
    } else if (method === 'jensenshannon' && f.kind === 'categorical') {
      score =
        `(WITH r AS (${counts('bench_reference')}), c AS (${counts('bench_current')}), ${joined}, ` +
        `pq AS (SELECT rn / (SELECT sum(rn) FROM j) AS p, cn / (SELECT sum(cn) FROM j) AS q FROM j) ` +
        `SELECT sqrt(sum(CASE WHEN p > 0 THEN p * ln(2 * p / (p + q)) ELSE 0 END + CASE WHEN q > 0 THEN q * ln(2 * q / (p + q)) ELSE 0 END) / 2) FROM pq)`;
    } else {
      throw new Error(`the DuckDB-only aggregation has normed Wasserstein (numeric) and Jensen–Shannon (categorical); '${f.name}' got ${method ?? 'no test'}`);
    }
    return `SELECT ${quotedString(f.name)} AS feature, ${quotedString(method)} AS method, ${score} AS score`;
  });
  return parts.join(' UNION ALL ');
}

/** Seconds of each of REPEATS runs of `run`, after one untimed run (DuckDB's caches, V8's JIT; Evidently gets the same). */
async function timed(run: () => Promise<void>): Promise<number[]> {
  await run();
  const seconds: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await run();
    seconds.push((performance.now() - started) / 1000);
  }
  return seconds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function runEvidently(binDir: string, input: { reference: string; current: string; numeric: string[]; categorical: string[]; repeats: number }): Promise<EvidentlyOutput> {
  const script = path.join(__dirname, 'evidently-drift-baseline.py');
  const { stdout } = await promisify(execFile)(path.join(binDir, 'python3'), [script, JSON.stringify(input)], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as EvidentlyOutput;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
