import { describe, expect, it } from 'vitest';
import { planChampionRollback, type ChampionRollbackFacts, type VersionFact } from '../../lib/policy/champion-rollback';

const v = (version: number, stage: string): VersionFact => ({ id: String(100 + version), version, stage });
const promoted = (previous: VersionFact | null): ChampionRollbackFacts['lastChampionChange'] => ({ previous, byRollback: false, at: '2026-12-01T10:00:00.000Z', reason: 'canary passed 2 stages' });
const base: ChampionRollbackFacts = { model: 'm', champion: v(3, 'champion'), canary: null, lastChampionChange: promoted(v(2, 'archived')) };

describe('planChampionRollback: what a rollback after promotion restores', () => {
  it('restores the champion the current one replaced', () => {
    expect(planChampionRollback(base)).toEqual({ action: 'restore', demote: v(3, 'champion'), restore: v(2, 'archived') });
  });

  it('changes nothing when the champion was put back by a rollback, and says how to go further back', () => {
    const plan = planChampionRollback({ ...base, champion: v(2, 'champion'), lastChampionChange: { previous: v(3, 'rolled_back'), byRollback: true, at: '2026-12-01T10:05:00.000Z', reason: 'rollback of v3 to v2 requested by alice: p99 up' } });
    expect(plan).toEqual({
      action: 'unchanged',
      message: 'm v2 is the champion since a rollback (2026-12-01T10:05:00.000Z: rollback of v3 to v2 requested by alice: p99 up): nothing changed; to go further back, name the version (--to-version N)',
    });
  });

  it('restores a named archived version, changes nothing for the champion itself, and refuses other stages or unknown versions', () => {
    expect(planChampionRollback({ ...base, requestedVersion: 1, requested: v(1, 'archived') })).toMatchObject({ action: 'restore', restore: v(1, 'archived') });
    expect(planChampionRollback({ ...base, requestedVersion: 3, requested: v(3, 'champion') })).toEqual({ action: 'unchanged', message: 'm v3 is already the champion: nothing changed' });
    expect(planChampionRollback({ ...base, requestedVersion: 4, requested: v(4, 'rejected') })).toEqual({
      action: 'refused',
      message: 'm v4 is rejected, not a former champion (archived): only an archived version can be restored',
    });
    expect(planChampionRollback({ ...base, requestedVersion: 9, requested: null })).toEqual({ action: 'refused', message: 'm has no version 9' });
  });

  it('refuses with no champion, with no previous one, and while a canary compares against the champion', () => {
    expect(planChampionRollback({ ...base, champion: null })).toMatchObject({ action: 'refused', message: 'm has no champion serving traffic: there is nothing to roll back' });
    expect(planChampionRollback({ ...base, lastChampionChange: promoted(null) })).toMatchObject({ action: 'refused', message: "m v3 is the model's first champion: there is no previous champion to restore" });
    expect(planChampionRollback({ ...base, canary: { version: 4, weight: 0.25 } })).toEqual({
      action: 'refused',
      message: 'a canary of m v4 takes 25% of the traffic, compared with v3: roll the canary back first (retrain rollback --model m --day <its day>), then the champion',
    });
  });
});
