import { z } from 'zod';

/**
 * The model spec's `monitoring` block: how often the drift monitor looks (a Temporal Schedule's
 * interval), at how much of the prediction log, against which reference, with which tests and
 * thresholds, and what makes it start a retraining run (the trigger) and how long it then waits
 * before it may start another (the cooldown). Workflow-safe: zod and pure functions only.
 */

/** The drift tests of lib/stats/drift-tests.ts, by name (declared here so the spec can check them). */
export const DRIFT_TEST_NAMES = ['psi', 'ks', 'wasserstein', 'chisquare', 'jensenshannon', 'linf'] as const;
export type DriftTestName = (typeof DRIFT_TEST_NAMES)[number];

const testName = z.enum(DRIFT_TEST_NAMES, {
  error: (issue) => `unknown drift test ${JSON.stringify(issue.input)}; known: ${DRIFT_TEST_NAMES.join(', ')}`,
});
const testChoice = z.union([z.literal('auto'), testName], {
  error: (issue) => `unknown drift test ${JSON.stringify(issue.input)}; known: auto, ${DRIFT_TEST_NAMES.join(', ')}`,
});

const DURATION = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `30s`, `15m`, `1h` or `7d`. */
export const Duration = z.string().regex(DURATION, 'must be a duration: a whole number and s, m, h or d, e.g. 15m, 1h, 7d');

/** Milliseconds of a duration string (throws for one that is not). */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`'${duration}' is not a duration (a whole number and s, m, h or d)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export const MonitoringSpec = z.strictObject({
  /** How often the drift monitor runs (the Temporal Schedule's interval). */
  interval: Duration.default('1h'),
  /** The prediction log it reads: the requests served in the last `window` before each run. */
  window: Duration.default('1h'),
  /**
   * Fewer served requests than this in the window: the pass reports "insufficient data" and never
   * triggers. Distances (above 1000 rows) need a few thousand requests to sit below their thresholds
   * on unshifted traffic when a feature has hundreds of categories (docs/drift-monitoring.md).
   */
  minRows: z.number().int().positive().default(1000),
  /** What the window is compared with: the datasets the serving champion's lineage was trained on. */
  reference: z.literal('champion-training').default('champion-training'),
  tests: z
    .strictObject({
      /** The test for every feature, or `auto` (by feature type and sample size: lib/stats/drift-tests.ts chooseDriftTest). */
      method: testChoice.default('auto'),
      /** A test for particular features, by name. */
      features: z.record(z.string(), testName).default({}),
      /** Thresholds by test; a test not listed uses its default (p-value tests: 0.05; distances: 0.1). */
      thresholds: z.partialRecord(testName, z.number().positive()).default({}),
    })
    .default({ method: 'auto', features: {}, thresholds: {} }),
  /** When a pass starts a retraining run: at least this share of the tested features drifted, or any of the named features did. */
  trigger: z
    .strictObject({
      driftedShare: z.number().gt(0).max(1).default(0.5),
      anyOf: z.array(z.string()).default([]),
    })
    .default({ driftedShare: 0.5, anyOf: [] }),
  /** After a pass started a retraining run, none starts again for this long, however long the drift persists. */
  cooldown: Duration.default('24h'),
});
export type MonitoringSpec = z.infer<typeof MonitoringSpec>;

/** Which tests take which feature kinds (lib/stats/drift-tests.ts DRIFT_TESTS declares the same). */
const TEST_KINDS: Readonly<Record<DriftTestName, readonly string[]>> = {
  psi: ['numeric', 'categorical'],
  ks: ['numeric'],
  wasserstein: ['numeric'],
  chisquare: ['numeric', 'categorical'],
  jensenshannon: ['numeric', 'categorical'],
  linf: ['numeric', 'categorical'],
};

/** Problems of a monitoring block against the spec's features: unknown feature names, a test that does not take a feature's kind. */
export function monitoringProblems(monitoring: MonitoringSpec, features: ReadonlyArray<{ name: string; kind: string }>): Array<{ path: (string | number)[]; message: string }> {
  const problems: Array<{ path: (string | number)[]; message: string }> = [];
  const kinds = new Map(features.map((f) => [f.name, f.kind]));
  const known = features.map((f) => f.name).join(', ');
  for (const [name, test] of Object.entries(monitoring.tests.features)) {
    const kind = kinds.get(name);
    if (!kind) problems.push({ path: ['monitoring', 'tests', 'features', name], message: `unknown feature '${name}'; features: ${known}` });
    else if (!TEST_KINDS[test].includes(kind)) problems.push({ path: ['monitoring', 'tests', 'features', name], message: `drift test '${test}' does not take ${kind} features; it takes ${TEST_KINDS[test].join(', ')}` });
  }
  const method = monitoring.tests.method;
  if (method !== 'auto') {
    for (const f of features) {
      if (!(f.name in monitoring.tests.features) && !TEST_KINDS[method].includes(f.kind)) {
        problems.push({ path: ['monitoring', 'tests', 'method'], message: `drift test '${method}' does not take ${f.kind} feature '${f.name}'; name a test for it in monitoring.tests.features` });
      }
    }
  }
  monitoring.trigger.anyOf.forEach((name, i) => {
    if (!kinds.has(name)) problems.push({ path: ['monitoring', 'trigger', 'anyOf', i], message: `unknown feature '${name}'; features: ${known}` });
  });
  return problems;
}
