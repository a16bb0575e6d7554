import { describe, expect, it } from 'vitest';
import { chooseHoldoutComparison, describeDays, type VersionTrainingHistory } from '../../lib/policy/holdout-comparison';

const days = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `2001-01-${String(from + i).padStart(2, '0')}`);
const version = (n: number, stage: string, trainedOn: string[]): VersionTrainingHistory => ({ versionId: String(n), version: n, stage, trainedOnDays: trainedOn });

describe('chooseHoldoutComparison', () => {
  it('compares with the champion when it did not learn from the held-out day', () => {
    const versions = [version(1, 'champion', days(2, 8)), version(2, 'candidate', days(3, 9))];
    expect(chooseHoldoutComparison({ holdoutDay: '2001-01-10', candidateVersionId: '2', championVersionId: '1', versions })).toEqual({
      comparatorVersionId: '1',
      comparatorVersion: 1,
      championVersion: 1,
      championSawHoldout: false,
      candidateSawHoldout: false,
      note: null,
    });
  });

  it('falls back to the newest earlier champion that did not see the day, and says why', () => {
    // v3 (champion) was fine-tuned from v2, so it inherited v2's days; v1 was trained on days before the 9th.
    const versions = [version(1, 'archived', days(1, 7)), version(2, 'archived', days(2, 8)), version(3, 'champion', days(2, 10)), version(4, 'candidate', days(1, 7))];
    const comparison = chooseHoldoutComparison({ holdoutDay: '2001-01-08', candidateVersionId: '4', championVersionId: '3', versions });
    expect(comparison).toMatchObject({ comparatorVersion: 1, championVersion: 3, championSawHoldout: true, candidateSawHoldout: false });
    expect(comparison.note).toBe(
      'champion v3 learned from 2001-01-08 (trained on 2001-01-02..2001-01-10): compared with v1 instead, the newest earlier champion that did not; a run of this older window never replaces it',
    );
  });

  it('compares with no model when every earlier champion saw the day, and never with a rejected version', () => {
    const versions = [version(1, 'archived', days(2, 8)), version(2, 'rejected', days(1, 7)), version(3, 'champion', days(3, 9)), version(4, 'candidate', days(1, 7))];
    const comparison = chooseHoldoutComparison({ holdoutDay: '2001-01-08', candidateVersionId: '4', championVersionId: '3', versions });
    expect(comparison).toMatchObject({ comparatorVersionId: null, comparatorVersion: null, championSawHoldout: true });
    expect(comparison.note).toMatch(/no earlier champion did not, so the candidate is held to the absolute gates only/);
  });

  it('flags a candidate that inherited the held-out day', () => {
    const versions = [version(1, 'champion', days(2, 8)), version(2, 'candidate', days(2, 9))];
    const comparison = chooseHoldoutComparison({ holdoutDay: '2001-01-09', candidateVersionId: '2', championVersionId: '1', versions });
    expect(comparison.candidateSawHoldout).toBe(true);
    expect(comparison.note).toMatch(/^candidate v2 learned from 2001-01-09/);
  });

  it('compares a repeated run with itself and needs no champion', () => {
    const versions = [version(1, 'champion', days(2, 8))];
    expect(chooseHoldoutComparison({ holdoutDay: '2001-01-09', candidateVersionId: '1', championVersionId: '1', versions }).comparatorVersionId).toBe('1');
    expect(chooseHoldoutComparison({ holdoutDay: '2001-01-09', candidateVersionId: '1', championVersionId: null, versions }).comparatorVersionId).toBeNull();
  });

  it('describes day sets for people', () => {
    expect(describeDays(days(3, 9))).toBe('2001-01-03..2001-01-09');
    expect(describeDays(['2001-01-09', '2001-01-01', '2001-01-20'])).toBe('3 days from 2001-01-01 to 2001-01-20');
    expect(describeDays(['2001-01-05'])).toBe('2001-01-05');
  });
});
