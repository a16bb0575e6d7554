import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_REASON_MAX_LENGTH,
  decisionRequestRefusal,
  effectiveApprovers,
  RECORDED_REFUSAL_REASON_MAX_LENGTH,
  refusalRecord,
  truncateText,
  unconfiguredApprovers,
} from '../../lib/policy/approver-check';
import { parseModelSpec } from '../../lib/spec/model-spec';

const example = JSON.parse(readFileSync(path.join(__dirname, '../../examples/flight-delay/model.json'), 'utf8')) as Record<string, unknown> & { promotion: Record<string, unknown> };

describe("the spec's approvers narrow the configured list, never widen it", () => {
  it('are optional: a safe spec without them means everyone the model’s approver policy configures', () => {
    const { promotion: _direct, ...withoutPromotion } = example;
    expect(parseModelSpec(withoutPromotion).promotion).toMatchObject({ strategy: 'safe', approval: { approvers: [] } });
    expect(() => parseModelSpec({ ...example, promotion: { strategy: 'safe', approval: { approvers: ['  '] } } })).toThrow(/promotion\.approval\.approvers\.0/);
    expect(effectiveApprovers(['alice', 'bob'], [])).toEqual(['alice', 'bob']);
  });

  it('keep only configured names: mallory in the spec is not an approver, and is reported as unconfigured', () => {
    expect(effectiveApprovers(['alice', 'bob'], ['alice'])).toEqual(['alice']);
    expect(effectiveApprovers(['alice', 'bob'], ['mallory'])).toEqual([]);
    expect(effectiveApprovers(['alice', 'bob'], ['alice', 'mallory'])).toEqual(['alice']);
    expect(effectiveApprovers([], ['mallory'])).toEqual([]);
    expect(unconfiguredApprovers(['alice', 'bob'], ['alice', 'mallory'])).toEqual(['mallory']);
  });
});

describe('a decision request', () => {
  const none = 'nobody may approve';

  it('is allowed for a listed approver with a reason of ordinary size', () => {
    expect(decisionRequestRefusal({ approver: ' alice ', reason: 'looks good' }, ['alice', 'bob'], none)).toBeNull();
    expect(decisionRequestRefusal({ approver: 'alice', reason: 'x'.repeat(APPROVAL_REASON_MAX_LENGTH) }, ['alice'], none)).toBeNull();
  });

  it('is refused as too large before anything else, naming the size and the limit', () => {
    expect(decisionRequestRefusal({ approver: 'mallory', reason: 'x'.repeat(1 << 20) }, ['alice'], none)).toBe('the reason is 1048576 characters long; at most 2000 are accepted');
    expect(decisionRequestRefusal({ approver: 'a'.repeat(101) }, ['alice'], none)).toBe('the approver name is 101 characters long; at most 100 are accepted');
  });

  it('is refused for a name not on the allowlist, a missing name, a non-object payload, or when nobody is configured', () => {
    expect(decisionRequestRefusal({ approver: 'mallory' }, ['alice', 'bob'], none)).toBe("approver 'mallory' is not on the allowlist (alice, bob)");
    expect(decisionRequestRefusal({ reason: 'hi' }, ['alice'], none)).toMatch(/needs an "approver" field/);
    expect(decisionRequestRefusal('alice', ['alice'], none)).toMatch(/must be an object/);
    expect(decisionRequestRefusal({ approver: 'alice', reason: 5 }, ['alice'], none)).toBe('the reason must be a string');
    expect(decisionRequestRefusal({ approver: 'alice' }, [], none)).toBe(none);
  });

  it('leaves a bounded record when refused, whatever it carried', () => {
    const record = refusalRecord('approvePromotion', { approver: 'm'.repeat(1 << 20), reason: 'r'.repeat(1 << 20) }, 'the reason is too long');
    expect(record.approver).toHaveLength(100);
    expect(record.reason.length).toBeLessThanOrEqual(RECORDED_REFUSAL_REASON_MAX_LENGTH);
    expect(record.reason).toMatch(/^approvePromotion refused: the reason is too long; reason given \(1048576 characters\): r+…$/);
    expect(refusalRecord('rejectPromotion', { approver: 'mallory' }, "approver 'mallory' is not on the allowlist (alice)")).toEqual({
      approver: 'mallory',
      reason: "rejectPromotion refused: approver 'mallory' is not on the allowlist (alice)",
    });
    expect(refusalRecord('approvePromotion', null, 'the payload must be an object')).toEqual({ approver: null, reason: 'approvePromotion refused: the payload must be an object' });
    expect(truncateText('abc', 2)).toBe('a…');
  });
});
