import { describe, expect, it } from 'vitest';
import { resolveBatch } from '../../lib/policy/label-resolution';
import { decisionMargin, selectRowsForLabeling } from '../../lib/policy/labeling-selection';
import { decideLabelingTimeout, labelingComplete } from '../../lib/policy/labeling-wait';
import { LabelingTimeoutSpec } from '../../lib/spec/labeling-spec';

describe('selectRowsForLabeling', () => {
  // Row i's champion probability of the positive class.
  const probabilities = Array.from({ length: 100 }, (_, i) => i / 99);
  const margins = probabilities.map((p) => decisionMargin([1 - p, p]));
  const options = { budget: 10, randomShare: 0.3, seed: 11, day: '2001-01-08' };

  it('takes the rows closest to the decision boundary, then a seeded random share of the rest', () => {
    const selection = selectRowsForLabeling(100, margins, options);
    expect(selection).toMatchObject({ uncertainty: 7, random: 3, candidates: 100, ranked: true });
    const uncertain = selection.rows.filter((r) => r.reason === 'uncertainty').map((r) => r.row);
    // p = 49/99 and 50/99 are the closest to 0.5, then 48/99 and 51/99, ...; equal margins go to the earlier row.
    expect(uncertain).toEqual([49, 50, 48, 51, 47, 52, 46]);
    expect(selection.marginCutoff).toBeCloseTo(Math.abs(2 * (46 / 99) - 1), 12);
    const random = selection.rows.filter((r) => r.reason === 'random').map((r) => r.row);
    expect(random).toHaveLength(3);
    expect(random.every((row) => !uncertain.includes(row))).toBe(true);
    expect(new Set(selection.rows.map((r) => r.row)).size).toBe(10);
  });

  it('is deterministic per seed and day, and another day draws other random rows', () => {
    const random = (day: string) => selectRowsForLabeling(100, margins, { ...options, day }).rows.filter((r) => r.reason === 'random').map((r) => r.row);
    expect(random('2001-01-08')).toEqual(random('2001-01-08'));
    expect(random('2001-01-09')).not.toEqual(random('2001-01-08'));
  });

  it('draws the whole budget at random without a champion, and never more rows than there are', () => {
    expect(selectRowsForLabeling(100, null, options)).toMatchObject({ uncertainty: 0, random: 10, ranked: false, marginCutoff: null });
    expect(selectRowsForLabeling(4, margins.slice(0, 4), options).rows).toHaveLength(4);
  });

  it('draws uniformly: over 2000 seeds each of 20 rows is drawn about equally often', () => {
    const counts = new Array<number>(20).fill(0);
    for (let seed = 0; seed < 2000; seed++) for (const r of selectRowsForLabeling(20, null, { budget: 5, randomShare: 1, seed, day: '2001-01-08' }).rows) counts[r.row]!++;
    // Expected 500 each; binomial sd about 19.4: within 5 sd.
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(97);
  });

  it('measures the margin of K classes as top-1 minus top-2', () => {
    expect(decisionMargin([0.2, 0.5, 0.3])).toBeCloseTo(0.2, 12);
    expect(decisionMargin([0.5, 0.5])).toBe(0);
  });
});

describe('resolveBatch', () => {
  const item = (itemId: string, ...values: number[]) => ({ itemId, annotations: values.map((value, i) => ({ annotator: `a${i}`, value })) });

  it('majority: unanimous items and majorities are labels, a tie is reported and left out, missing annotators keep an item pending', () => {
    const result = resolveBatch([item('1', 1, 1), item('2', 0, 1), item('3', 1, 1, 0), item('4', 0)], { rule: 'majority', annotatorsPerItem: 2, classes: 2 });
    expect(result.resolved.map((r) => [r.itemId, r.resolution, r.value])).toEqual([
      ['1', 'unanimous', 1],
      ['2', 'tie', null],
      ['3', 'majority', 1],
      ['4', 'pending', null],
    ]);
    expect(result).toMatchObject({ items: 4, labeled: 2, pending: 1, conflicts: 2, unresolved: 1 });
    expect(result.resolved[1]!.agreement).toBe(0);
    expect(result.agreement.method).toBe('fleiss');
  });

  it('review: a disagreement waits for one more annotation, which settles it by strict majority', () => {
    const options = { rule: 'review' as const, annotatorsPerItem: 2, classes: 2 };
    expect(resolveBatch([item('1', 0, 1)], options).resolved[0]).toMatchObject({ resolution: 'review', value: null });
    expect(resolveBatch([item('1', 0, 1, 1)], options).resolved[0]).toMatchObject({ resolution: 'majority', value: 1 });
    expect(resolveBatch([item('1', 0, 1, 1, 0)], options).resolved[0]).toMatchObject({ resolution: 'review' });
  });

  it("uses Cohen's kappa when the same two annotators labeled every multiply-annotated item", () => {
    const result = resolveBatch([item('1', 1, 1), item('2', 0, 0), item('3', 0, 1), item('4', 1, 1), item('5', 0, 0), item('6', 0, 0)], { rule: 'majority', annotatorsPerItem: 2, classes: 2 });
    // a = 1,0,0,1,0,0; b = 1,0,1,1,0,0: p_o = 5/6, p_e = (2/6)(3/6) + (4/6)(3/6) = 1/2, kappa = 2/3.
    expect(result.agreement).toMatchObject({ method: 'cohen', items: 6, annotators: ['a0', 'a1'] });
    expect(result.agreement.kappa).toBeCloseTo(2 / 3, 12);
  });

  it('refuses a class the model does not have', () => {
    expect(() => resolveBatch([item('1', 2)], { rule: 'majority', annotatorsPerItem: 1, classes: 2 })).toThrow(/class 2.*2 classes/);
  });
});

describe('the labeling timeout', () => {
  const counts = { items: 10, labeled: 7, pending: 3, review: 0, ties: 0 };
  const timeout = (onTimeout: 'escalate' | 'proceed' | 'fail', minLabeledFraction = 0.8) => LabelingTimeoutSpec.parse({ seconds: 60, onTimeout, minLabeledFraction });

  it('escalates and keeps waiting, proceeds at the fraction, or fails naming the numbers', () => {
    expect(decideLabelingTimeout(counts, timeout('escalate'), 60)).toMatchObject({ action: 'escalate' });
    expect(decideLabelingTimeout(counts, timeout('proceed', 0.7), 60)).toMatchObject({ action: 'proceed' });
    expect(decideLabelingTimeout(counts, timeout('proceed'), 60).reason).toBe(
      'labeling timed out with 7 of 10 items labeled (70.0 %) after 60 s: fewer than the 80.0 % labels.timeout.minLabeledFraction requires to proceed',
    );
    expect(decideLabelingTimeout(counts, timeout('fail'), 61)).toEqual({ action: 'fail', reason: 'labeling timed out: 7 of 10 items labeled (70.0 %) after 61 s (labels.timeout.onTimeout is fail)' });
  });

  it('a batch is complete once nothing is pending or under review; ties do not hold it', () => {
    expect(labelingComplete({ ...counts, pending: 0, ties: 2 })).toBe(true);
    expect(labelingComplete({ ...counts, pending: 0, review: 1 })).toBe(false);
    expect(labelingComplete(counts)).toBe(false);
  });
});
