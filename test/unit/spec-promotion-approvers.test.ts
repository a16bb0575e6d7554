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

  it('is taken as given, and is not needed for direct promotion', () => {
    expect(parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: ['alice', 'bob'] } } }).promotion.approval.approvers).toEqual(['alice', 'bob']);
    expect(parseModelSpec(example).promotion).toMatchObject({ strategy: 'direct', approval: { approvers: [] } });
  });
});
