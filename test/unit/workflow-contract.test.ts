import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { CanarySpec } from '../../lib/spec/model-spec';
import { CanaryRolloutInputSchema, RetrainingPipelineInputSchema } from '../../lib/spec/workflow-inputs';
import { InvalidDayError, partitionsForRun } from '../../lib/policy/training-window';
import { canaryRollout } from '../../workflows/canary-rollout';
import { CANARY_ROLLOUT, LABELING_HANDOFF, RETRAINING_PIPELINE, SHADOW_EVALUATION } from '../../workflows/definitions';
import { labelingHandoff } from '../../workflows/labeling-handoff';
import { retrainingPipeline } from '../../workflows/retraining-pipeline';
import { shadowEvaluation } from '../../workflows/shadow-evaluation';
import { validateWorkflowInput } from '../../workflows/workflow-input';

const spec = loadModelSpec(path.join(__dirname, '..', '..', 'examples', 'flight-delay', 'model.json'));

function failureOf(run: () => void): ApplicationFailure {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected the input to be refused');
}

describe('workflow types', () => {
  // Children are started by function reference (executeChild(shadowEvaluation, ...)), whose name is the workflow type:
  // it must stay the name clients start them by and recorded histories hold.
  it('are the function names clients and histories use', () => {
    expect([retrainingPipeline.name, shadowEvaluation.name, canaryRollout.name, labelingHandoff.name]).toEqual([RETRAINING_PIPELINE, SHADOW_EVALUATION, CANARY_ROLLOUT, LABELING_HANDOFF]);
  });
});

describe('workflow input validation', () => {
  it('accepts a valid pipeline input, and a spec recorded before `promotion` existed', () => {
    validateWorkflowInput('retrainingPipeline', RetrainingPipelineInputSchema, { spec, day: '2001-01-09' });
    const { promotion: _omitted, ...older } = spec;
    validateWorkflowInput('retrainingPipeline', RetrainingPipelineInputSchema, { spec: older as typeof spec, day: '2001-01-09' });
  });

  it.each([
    ['2001-13-45', "day: must be a date YYYY-MM-DD, got '2001-13-45'"],
    ['2001-02-30', "day: must be a date YYYY-MM-DD, got '2001-02-30'"],
    ['9 Jan 2001', "day: must be a date YYYY-MM-DD, got '9 Jan 2001'"],
  ])('refuses the day %s as non-retryable InvalidWorkflowInput naming the field', (day, problem) => {
    const failure = failureOf(() => validateWorkflowInput('retrainingPipeline', RetrainingPipelineInputSchema, { spec, day }));
    expect(failure).toMatchObject({ type: 'InvalidWorkflowInput', nonRetryable: true, message: `invalid retrainingPipeline input: ${problem}` });
  });

  it('names every invalid field, nested ones by their path', () => {
    const input = { spec: { ...spec, training: { ...spec.training, windowPartitions: -1 } }, day: undefined as unknown as string };
    const failure = failureOf(() => validateWorkflowInput('retrainingPipeline', RetrainingPipelineInputSchema, input));
    expect(failure.message).toMatch(/^invalid retrainingPipeline input: spec\.training\.windowPartitions: .*, got -1; day: .*, got nothing$/);
  });

  it('refuses a canary whose version id is not an id', () => {
    const input = { model: 'm', candidateVersionId: 'v2', candidateVersion: 2, championVersionId: '1', championVersion: 1, approvers: ['alice'], spec: CanarySpec.parse({}) };
    const failure = failureOf(() => validateWorkflowInput('canaryRollout', CanaryRolloutInputSchema, input));
    expect(failure.message).toBe("invalid canaryRollout input: candidateVersionId: must be a model version id (digits), got 'v2'");
  });
});

describe('partitionsForRun', () => {
  it('returns the training window before the day and the day as holdout', () => {
    expect(partitionsForRun('2001-03-01', 2)).toEqual({ training: ['2001-02-27', '2001-02-28'], holdout: '2001-03-01' });
  });

  it('throws InvalidDayError, which the workflow turns into InvalidWorkflowInput', () => {
    expect(() => partitionsForRun('2001-13-45', 7)).toThrow(InvalidDayError);
    expect(() => partitionsForRun('2001-13-45', 7)).toThrow("invalid day: must be a date YYYY-MM-DD, got '2001-13-45'");
  });
});
