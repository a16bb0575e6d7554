import { describe, expect, it } from 'vitest';
import { BuiltinTrainerSpec, ExternalTrainerSpec, TrainingPolicySpec } from '../../lib/spec/model-spec';
import { chooseTrainingMode, type TrainingContext } from '../../lib/policy/training-mode';

const policy = TrainingPolicySpec.parse({ scratchEveryNthRun: 4, maxDaysSinceScratch: 30, maxFeatureDrift: 0.25 });
const builtin = BuiltinTrainerSpec.parse({ kind: 'builtin' });
const base: TrainingContext = {
  champion: { versionId: '7', version: 3, trainingSignature: 'sig' },
  trainingSignature: 'sig',
  runsSinceScratch: 1,
  daysSinceScratch: 2,
  worstDrift: { feature: 'distance', score: 0.02 },
  previousDecision: null,
};

describe('chooseTrainingMode', () => {
  it('fine-tunes the champion when no rule asks for a fresh start', () => {
    const decision = chooseTrainingMode(base, policy, builtin);
    expect(decision).toMatchObject({ mode: 'fine_tune', baseVersionId: '7' });
    expect(decision.reason).toContain('champion v3');
  });

  it.each<[string, Partial<TrainingContext>, RegExp]>([
    ['there is no champion', { champion: null }, /no champion/],
    ['the features changed', { trainingSignature: 'other' }, /features, label or trainer changed/],
    ['every Nth run is due', { runsSinceScratch: 3 }, /every 4th run/],
    ['the last from-scratch model is too old', { daysSinceScratch: 31 }, /31 days old \(limit 30\)/],
    ['a feature drifted', { worstDrift: { feature: 'origin', score: 0.4 } }, /feature 'origin' drifted: PSI 0\.400 > 0\.25/],
    ['no from-scratch run is on record', { runsSinceScratch: null }, /no from-scratch run/],
  ])('trains from scratch when %s', (_, change, reason) => {
    const decision = chooseTrainingMode({ ...base, ...change }, policy, builtin);
    expect(decision.mode).toBe('from_scratch');
    expect(decision.baseVersionId).toBeNull();
    expect(decision.reason).toMatch(reason);
  });

  it('trains from scratch when fine-tuning is off or the external trainer cannot warm start', () => {
    expect(chooseTrainingMode(base, { ...policy, fineTune: false }, builtin).reason).toMatch(/disabled/);
    const external = ExternalTrainerSpec.parse({ kind: 'external', command: ['python3', 'train.py'] });
    expect(chooseTrainingMode(base, policy, external).reason).toMatch(/does not support warm starts/);
    expect(chooseTrainingMode(base, policy, { ...external, supportsWarmStart: true }).mode).toBe('fine_tune');
  });

  it('repeats the decision of an earlier run on the same data, whatever changed since', () => {
    const previous = { mode: 'from_scratch' as const, reason: 'no champion to start from', baseVersionId: null };
    expect(chooseTrainingMode({ ...base, previousDecision: previous }, policy, builtin)).toEqual(previous);
  });

  it('with scratchEveryNthRun = 1 every run is from scratch', () => {
    expect(chooseTrainingMode({ ...base, runsSinceScratch: 0 }, { ...policy, scratchEveryNthRun: 1 }, builtin).mode).toBe('from_scratch');
  });
});
