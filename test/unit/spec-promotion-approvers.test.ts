import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelSpec } from '../../lib/spec/model-spec';

const example = JSON.parse(readFileSync(path.join(__dirname, '../../examples/flight-delay/model.json'), 'utf8')) as Record<string, unknown> & { promotion: Record<string, unknown> };

describe('the approver allowlist of a safe promotion', () => {
  it('must be given explicitly: a safe spec without one is refused naming the field', () => {
    const { promotion: _direct, ...withoutPromotion } = example;
    expect(() => parseModelSpec(withoutPromotion)).toThrow(/promotion\.approval\.approvers: required when promotion\.strategy is 'safe' \(the default\)/);
    expect(() => parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: [] } } })).toThrow(/promotion\.approval\.approvers: required/);
    expect(() => parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: ['  '] } } })).toThrow(/promotion\.approval\.approvers\.0/);
  });

  it('fails a pipeline run started with a safe spec without approvers at once, naming the field', async () => {
    const { retrainingPipeline } = await import('../../workflows/retraining-pipeline');
    const spec = parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: ['alice'] } } });
    const unsafe = { ...spec, promotion: { ...spec.promotion, approval: { ...spec.promotion.approval, approvers: [] } } };
    // The check comes before any Temporal API is called, so the workflow function can be called directly.
    await expect(retrainingPipeline({ spec: unsafe, day: '2001-01-09' })).rejects.toMatchObject({
      type: 'InvalidWorkflowInput',
      nonRetryable: true,
      message: expect.stringMatching(/^invalid retrainingPipeline input: spec\.promotion\.approval\.approvers: required/),
    });
  });

  it('is taken as given, and is not needed for direct promotion', () => {
    expect(parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: ['alice', 'bob'] } } }).promotion.approval.approvers).toEqual(['alice', 'bob']);
    expect(parseModelSpec(example).promotion).toMatchObject({ strategy: 'direct', approval: { approvers: [] } });
  });
});
