import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cohenKappa, fleissKappa, itemAgreement } from '../../lib/stats/annotator-agreement';
import { mulberry32 } from '../../lib/stats/seeded-random';

/** Two annotators who agree with probability `agree`, else choose at random among k classes. */
function annotatorPair(n: number, k: number, agree: number, seed: number): { a: number[]; b: number[] } {
  const random = mulberry32(seed);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    const first = Math.floor(random() * k);
    a.push(first);
    b.push(random() < agree ? first : Math.floor(random() * k));
  }
  return { a, b };
}

const cohenCases = [
  { name: 'binary, one disagreement in six', a: [0, 1, 1, 0, 1, 0], b: [0, 1, 1, 0, 0, 0] },
  { name: 'binary, skewed', a: [1, 1, 1, 1, 1, 1, 1, 0, 1, 1], b: [1, 1, 1, 1, 1, 1, 0, 1, 1, 1] },
  { name: 'three classes, worse than chance', a: [0, 1, 2, 0, 1, 2], b: [1, 2, 0, 1, 2, 0] },
  { name: 'a class only one annotator used', a: [0, 0, 1, 1, 2], b: [0, 0, 1, 1, 1] },
  { name: '200 items, 4 classes', ...annotatorPair(200, 4, 0.7, 5) },
  { name: '1000 items, binary', ...annotatorPair(1000, 2, 0.8, 6) },
];

describe("Cohen's kappa", () => {
  it("agrees with scikit-learn's cohen_kappa_score to 1e-12", () => {
    // `npm test` puts the referees' venv (scikit-learn) first on PATH.
    const python = 'import json,sys\nfrom sklearn.metrics import cohen_kappa_score\nprint(json.dumps([cohen_kappa_score(c["a"], c["b"]) for c in json.load(sys.stdin)]))';
    const expected = JSON.parse(execFileSync('python3', ['-c', python], { input: JSON.stringify(cohenCases), encoding: 'utf8' })) as number[];
    cohenCases.forEach((c, i) => expect(Math.abs(cohenKappa(c.a, c.b) - expected[i]!), c.name).toBeLessThanOrEqual(1e-12));
  });

  it('is 1 for perfect agreement, NaN when chance agreement is 1 (as scikit-learn) or without items', () => {
    expect(cohenKappa([0, 1, 1], [0, 1, 1])).toBe(1);
    expect(cohenKappa([1, 1, 1], [1, 1, 1])).toBeNaN();
    expect(cohenKappa([], [])).toBeNaN();
    expect(() => cohenKappa([0, 1], [0])).toThrow(/same items/);
  });
});

describe("Fleiss' kappa", () => {
  // Fleiss, J. L. (1971), "Measuring nominal scale agreement among many raters", Psychological
  // Bulletin 76(5), 378-382; the worked example as tabulated in Wikipedia's "Fleiss' kappa"
  // article: 10 subjects, 14 raters each, 5 categories. Published: P_1..P_10 = 1.000, 0.253, 0.308,
  // 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286; p_j = 0.143, 0.200, 0.279, 0.150, 0.229;
  // P̄ = 0.378, P̄_e = 0.213, κ = 0.210 (rounded to 3 decimals).
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];

  it('reproduces the published worked example to its 3 decimals', () => {
    const result = fleissKappa(table);
    expect(result.kappa).toBeCloseTo(0.21, 3);
    expect(result.meanAgreement).toBeCloseTo(0.378, 3);
    expect(result.chanceAgreement).toBeCloseTo(0.213, 3);
    expect(result.classShares.map((p) => Number(p.toFixed(3)))).toEqual([0.143, 0.2, 0.279, 0.15, 0.229]);
    expect(table.map((row) => Number(itemAgreement(row).toFixed(3)))).toEqual([1, 0.253, 0.308, 0.44, 0.33, 0.462, 0.242, 0.176, 0.286, 0.286]);
    expect(result.items).toBe(10);
  });

  it('leaves out items with one annotation, and is NaN without any item of two or with one class only', () => {
    expect(fleissKappa([...table, [0, 0, 1, 0, 0]]).kappa).toBeCloseTo(fleissKappa(table).kappa, 12);
    expect(fleissKappa([[1, 0]]).kappa).toBeNaN();
    expect(fleissKappa([[3, 0], [2, 0]]).kappa).toBeNaN();
    expect(itemAgreement([1, 0])).toBeNaN();
  });
});
