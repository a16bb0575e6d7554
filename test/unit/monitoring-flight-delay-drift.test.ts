import path from 'node:path';
import { quotedString } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { withDuckDB } from '../../lib/data/duckdb';
import { valueCountsQuery, type SnapshotValueCounts } from '../../lib/data/feature-value-counts';
import { FLIGHTS_PARQUET } from '../../lib/data/flight-delay-prep';
import { classMixDrift, compareFeatures, summarizeDrift } from '../../lib/monitoring/drift-report';
import { MonitoringSpec } from '../../lib/spec/monitoring-spec';
import { runDriftTest } from '../../lib/stats/drift-tests';

/**
 * Real data: the flight-delay example's features over vega-datasets' flights-3m (US flights,
 * Jan-Jun 2001), aggregated by the monitor's own DuckDB query and judged by its tests with the
 * automatic choice. January against June must show the features and the delay rate that moved;
 * two adjacent January weeks (Monday to Sunday each) must not. The numbers are printed.
 */
const spec = loadModelSpec(path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model.json'));
const tests = MonitoringSpec.parse({}).tests;

async function countsBetween(from: string, to: string): Promise<SnapshotValueCounts> {
  const relation = `(SELECT * FROM read_parquet(${quotedString(FLIGHTS_PARQUET)}) WHERE "date" >= TIMESTAMP '${from}' AND "date" < TIMESTAMP '${to}')`;
  return withDuckDB((connection) => valueCountsQuery(connection, relation, spec, spec.features, true));
}

function compare(reference: SnapshotValueCounts, current: SnapshotValueCounts) {
  const features = compareFeatures('ingested', spec.features, reference.features, current.features, tests);
  const label = classMixDrift([reference.label!.negative, reference.label!.positive], [current.label!.negative, current.label!.positive], tests)!;
  const asCounts = (l: SnapshotValueCounts['label']) => ({ kind: 'categorical' as const, categories: ['0', '1'], counts: Float64Array.of(l!.negative, l!.positive), missing: 0 });
  // For the record: the p-value test on the same label counts (not what decides on samples this large).
  const labelChiSquare = runDriftTest('chisquare', asCounts(reference.label), asCounts(current.label));
  return { features, label, labelChiSquare, summary: summarizeDrift(features) };
}

function print(title: string, reference: SnapshotValueCounts, current: SnapshotValueCounts, { features, label, labelChiSquare }: ReturnType<typeof compare>) {
  const lines = features.map(
    (f) => `  ${f.feature.padEnd(12)} ${f.result.method.padEnd(13)} score ${f.result.score?.toFixed(4)} (threshold ${f.result.threshold}) ${f.result.drifted ? 'DRIFT' : 'no drift'}`,
  );
  lines.push(
    `  ${'delay rate'.padEnd(12)} ${label!.result.method.padEnd(13)} score ${label!.result.score?.toFixed(4)} (threshold ${label!.result.threshold}) ${label!.result.drifted ? 'DRIFT' : 'no drift'}: ${label!.reference.shares[1]!.toFixed(4)} -> ${label!.current.shares[1]!.toFixed(4)}; chi-square ${labelChiSquare.score?.toFixed(1)}, p ${labelChiSquare.pValue?.toExponential(2)}`,
  );
  process.stdout.write(`${title}: ${reference.rows} vs ${current.rows} rows\n${lines.join('\n')}\n`);
}

describe('drift on real data: flight-delay January vs June, and two January weeks', () => {
  /*
   * What moved from January to June 2001, on the whole months (numbers of the last run in docs/drift-monitoring.md):
   * the weekday mix (June 2001 has five Fridays, Saturdays and Sundays, January five Mondays to
   * Wednesdays) beyond a tenth of a standard deviation; departure hours, distances and airports
   * moved by a fraction of the thresholds; the delay rate rose from 20.5 % to 21.4 %: far beyond
   * sampling noise (chi-square p < 1e-6 on 500 000 rows a side) but a small move by its distance,
   * which decides on samples this large (lib/stats/drift-tests.ts chooseDriftTest).
   */
  it('January vs June: the weekday mix drifts; the delay rate moved, significant but below the distance threshold', async () => {
    const january = await countsBetween('2001-01-01', '2001-02-01');
    const june = await countsBetween('2001-06-01', '2001-07-01');
    const comparison = compare(january, june);
    const { features, label, labelChiSquare, summary } = comparison;
    print('January vs June 2001', january, june, comparison);
    expect(features.every((f) => f.choice === 'auto')).toBe(true);
    expect(features.find((f) => f.feature === 'distance')!.result.method).toBe('wasserstein');
    expect(features.find((f) => f.feature === 'origin')!.result.method).toBe('jensenshannon');
    expect(summary.drifted).toEqual(['weekday']);
    // Every feature moved more than between two January weeks (below).
    for (const f of features) expect(f.result.score!).toBeGreaterThan(0.01);
    expect(label.current.shares[1]! - label.reference.shares[1]!).toBeGreaterThan(0.005);
    expect(labelChiSquare.pValue!).toBeLessThan(1e-6);
    expect(label.result.drifted).toBe(false);
  });

  it('two adjacent January weeks (Mon 8 - Sun 14 vs Mon 15 - Sun 21): no drift', async () => {
    const first = await countsBetween('2001-01-08', '2001-01-15');
    const second = await countsBetween('2001-01-15', '2001-01-22');
    const comparison = compare(first, second);
    const { label, summary } = comparison;
    print('2001-01-08..14 vs 2001-01-15..21', first, second, comparison);
    expect(summary.drifted).toEqual([]);
    expect(label.result.drifted).toBe(false);
  });
});
