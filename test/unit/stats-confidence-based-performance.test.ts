import { describe, expect, it } from 'vitest';
import { estimatedAccuracy } from '../../lib/stats/confidence-based-performance';
import { calibrate, fitIsotonicCalibration } from '../../lib/stats/isotonic-calibration';

/*
 * Reference values from scikit-learn 1.9.1 (the referees' venv):
 *
 * python3 - <<'PY'
 * import numpy as np
 * from sklearn.isotonic import IsotonicRegression
 * s = [round(((i*7919) % 1009)/1009, 2) for i in range(500)]
 * y = [1 if ((i*104729) % 997)/997 < v*0.8 + 0.05 else 0 for i, v in enumerate(s)]
 * iso = IsotonicRegression(out_of_bounds='clip').fit(s, y)
 * print([float(v) for v in iso.predict([-1, 0, 0.005, 0.123, 0.5, 0.777, 0.999, 2])])
 * c = iso.predict(s); pred = [1 if v >= 0.5 else 0 for v in s]
 * print(float(np.mean([ci if p == 1 else 1 - ci for ci, p in zip(c, pred)])), float(np.mean([p == l for p, l in zip(pred, y)])))
 * PY
 */
const scores = Array.from({ length: 500 }, (_, i) => Number((((i * 7919) % 1009) / 1009).toFixed(2)));
const labels = scores.map((v, i) => (((i * 104729) % 997) / 997 < v * 0.8 + 0.05 ? 1 : 0));

describe('isotonic calibration (pinned to sklearn IsotonicRegression(out_of_bounds="clip"))', () => {
  it('predicts the fitted step function, interpolated between distinct scores and clipped outside', () => {
    const fit = fitIsotonicCalibration(scores, labels);
    const expected = [0.08695652173913043, 0.08695652173913043, 0.08695652173913043, 0.15254237288135594, 0.4444444444444444, 0.7049180327868853, 0.99, 1.0];
    [-1, 0, 0.005, 0.123, 0.5, 0.777, 0.999, 2].forEach((t, i) => expect(calibrate(fit, t)).toBeCloseTo(expected[i]!, 12));
    for (let k = 1; k < fit.y.length; k++) expect(fit.y[k]!).toBeGreaterThanOrEqual(fit.y[k - 1]!);
  });

  it('a single labelled score calibrates everything to its label', () => {
    const fit = fitIsotonicCalibration([0.3], [1]);
    expect(calibrate(fit, 0.9)).toBe(1);
    expect(() => fitIsotonicCalibration([], [])).toThrow('at least one');
  });
});

describe('confidence-based performance estimation', () => {
  it('is the mean chance that each answered label is right under the calibration: close to the realized accuracy on the same rows', () => {
    const fit = fitIsotonicCalibration(scores, labels);
    const predicted = scores.map((v) => (v >= 0.5 ? 1 : 0));
    const estimate = estimatedAccuracy(fit, scores, predicted);
    expect(estimate.rows).toBe(500);
    expect(estimate.accuracy).toBeCloseTo(0.6957777777777778, 12);
    // Realized on these rows (sklearn run above): 0.694.
    expect(Math.abs(estimate.accuracy - 0.694)).toBeLessThan(0.01);
  });

  it('is NaN without predictions', () => {
    expect(estimatedAccuracy(fitIsotonicCalibration([0.2, 0.8], [0, 1]), [], []).accuracy).toBeNaN();
  });
});
