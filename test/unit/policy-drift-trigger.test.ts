import { describe, expect, it } from 'vitest';
import { decideRetrainingStart, driftCrossesTrigger } from '../../lib/policy/drift-trigger';

const verdict = (drifted: string[], tested = ['a', 'b', 'c', 'd']) => ({ status: 'ok' as const, tested, drifted, share: drifted.length / tested.length });
const trigger = { driftedShare: 0.5, anyOf: ['d'] };
const facts = { running: null, lastTriggered: null, now: Date.parse('2026-12-01T12:00:00Z'), cooldownMs: 3_600_000 };

describe('the drift trigger', () => {
  it('crosses at the share of drifted features, or when a named feature drifts', () => {
    expect(driftCrossesTrigger(verdict(['a']), trigger)).toEqual({ crossed: false, reason: '1 of 4 features drifted (25%; trigger at 50%)' });
    expect(driftCrossesTrigger(verdict(['a', 'b']), trigger).crossed).toBe(true);
    expect(driftCrossesTrigger(verdict(['d']), trigger)).toEqual({ crossed: true, reason: "'d' drifted (named in the trigger); 1 of 4 features drifted (25%; trigger at 50%)" });
    expect(driftCrossesTrigger({ ...verdict(['a', 'b', 'c']), status: 'insufficient_data' }, trigger).crossed).toBe(false);
    expect(driftCrossesTrigger(verdict([], []), trigger).crossed).toBe(false);
  });

  it('starts a run only when none is in progress and the cooldown has passed', () => {
    const crossed = driftCrossesTrigger(verdict(['a', 'b']), trigger);
    expect(decideRetrainingStart(crossed, facts).start).toBe(true);
    expect(decideRetrainingStart(crossed, { ...facts, running: { workflowId: 'retrain/m/2001-01-10' } })).toEqual({
      start: false,
      reason: 'trigger crossed (2 of 4 features drifted (50%; trigger at 50%)), but retraining run retrain/m/2001-01-10 is in progress',
    });
    const recent = { workflowId: 'retrain/m/2001-01-10/drift-x', at: facts.now - 3_599_000 };
    expect(decideRetrainingStart(crossed, { ...facts, lastTriggered: recent }).reason).toContain('in cooldown until 2026-12-01T12:00:01.000Z');
    expect(decideRetrainingStart(crossed, { ...facts, lastTriggered: { ...recent, at: facts.now - 3_600_000 } }).start).toBe(true);
    expect(decideRetrainingStart(driftCrossesTrigger(verdict([]), trigger), facts)).toEqual({ start: false, reason: 'trigger not crossed: 0 of 4 features drifted (0%; trigger at 50%)' });
  });
});
