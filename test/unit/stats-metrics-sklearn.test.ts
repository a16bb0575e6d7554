import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateBinaryClassifier } from '../../lib/stats/metrics';
import { mulberry32 } from '../../lib/stats/seeded-random';

// The issue asks for metric implementations that agree with scikit-learn to 1e-6 on the same
// labels and scores; this calls Python from the suite to check it on cases chosen to hit the
// edge rules: ties, scores of exactly 0.5, tiny inputs, skewed classes.

interface Case {
  name: string;
  labels: number[];
  scores: number[];
}

function randomCase(name: string, n: number, seed: number, options: { decimals?: number; positiveRate?: number } = {}): Case {
  const random = mulberry32(seed);
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = random() < (options.positiveRate ?? 0.4) ? 1 : 0;
    // Informative but noisy scores in (0, 1).
    let p = 1 / (1 + Math.exp(-(2 * (y - 0.5) + 1.5 * (random() * 2 - 1))));
    if (options.decimals !== undefined) p = Number(p.toFixed(options.decimals));
    labels.push(y);
    scores.push(p);
  }
  return { name, labels, scores };
}

const cases: Case[] = [
  { name: 'two rows', labels: [0, 1], scores: [0.3, 0.6] },
  { name: 'three rows, reversed', labels: [1, 0, 0], scores: [0.2, 0.9, 0.4] },
  { name: 'all scores tied', labels: [0, 1, 1, 0, 1], scores: [0.3, 0.3, 0.3, 0.3, 0.3] },
  { name: 'scores of exactly 0.5 and bin edges', labels: [1, 0, 1, 0, 1, 0], scores: [0.5, 0.5, 0.1, 0.2, 0.9, 0.7] },
  // Scores of exactly 0 and 1 only where they are right: log loss clipping differs (1e-15 here, float eps in sklearn).
  { name: 'certain and right', labels: [0, 1, 1, 0], scores: [0, 1, 0.7, 0.4] },
  randomCase('200 rows, many ties (2 decimals)', 200, 1, { decimals: 2 }),
  randomCase('1000 rows, coarse ties (1 decimal)', 1000, 2, { decimals: 1 }),
  randomCase('5000 rows, continuous', 5000, 3),
  randomCase('500 rows, 3% positive', 500, 4, { positiveRate: 0.03 }),
];

const PYTHON = String.raw`
import json, sys
import numpy as np
from sklearn.metrics import roc_auc_score, average_precision_score, accuracy_score, f1_score, log_loss, brier_score_loss

def ece(y, p, bins=10):
    # Same definition as lib/ml/metrics.ts: bin = min(floor(10 p), 9); sum over bins of |mean p - fraction positive| * share.
    b = np.minimum(np.maximum(np.floor(p * bins), 0), bins - 1).astype(int)
    total = 0.0
    for k in range(bins):
        m = b == k
        if m.any():
            total += abs(p[m].mean() - y[m].mean()) * m.sum() / len(y)
    return total

out = {}
for case in json.load(open(sys.argv[1])):
    y = np.array(case["labels"], dtype=int)
    p = np.array(case["scores"], dtype=float)
    pred = (p >= 0.5).astype(int)  # lib/stats/decision-threshold: a score at the threshold is positive
    out[case["name"]] = {
        "auc": roc_auc_score(y, p),
        "prAuc": average_precision_score(y, p),
        "accuracy": accuracy_score(y, pred),
        "f1": f1_score(y, pred, zero_division=np.nan),
        "logLoss": log_loss(y, p, labels=[0, 1]),
        "brier": brier_score_loss(y, p),
        "ece": ece(y, p),
    }
print(json.dumps(out))
`;

function sklearnAvailable(): { ok: true } | { ok: false; reason: string } {
  const probe = spawnSync('python3', ['-c', 'import sklearn, numpy'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, reason: `python3 not runnable: ${probe.error.message}` };
  if (probe.status !== 0) return { ok: false, reason: `scikit-learn is not importable: ${probe.stderr.trim().split('\n').at(-1)}` };
  return { ok: true };
}

const availability = sklearnAvailable();
const dir = mkdtempSync(path.join(tmpdir(), 'metrics-sklearn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('metrics agree with scikit-learn', () => {
  it('to 1e-6 on every case and metric', () => {
    // Never skipped: `npm test` prepares a Python environment with scikit-learn (test/prepare/python-environment.ts).
    if (!availability.ok) throw new Error(`${availability.reason}: run the tests with \`npm test\`, which prepares the Python environment`);
    const file = path.join(dir, 'cases.json');
    writeFileSync(file, JSON.stringify(cases));
    const expected = JSON.parse(execFileSync('python3', ['-c', PYTHON, file], { encoding: 'utf8' })) as Record<string, Record<string, number>>;
    for (const c of cases) {
      const actual = evaluateBinaryClassifier(Uint8Array.from(c.labels), c.scores);
      for (const [metric, value] of Object.entries(expected[c.name]!)) {
        expect(Math.abs(actual[metric as keyof typeof actual] - value), `${metric} on '${c.name}'`).toBeLessThanOrEqual(1e-6);
      }
    }
  });
});
