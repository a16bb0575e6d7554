import { describe, expect, it } from 'vitest';
import { ServedRequests } from '../../gateway/served-requests';

describe('ServedRequests', () => {
  it('reserves ids, refuses them while reserved or served, and frees them when released', () => {
    const served = new ServedRequests({ capacity: 10, isWritten: () => true });
    expect(served.reserve('m', ['a', 'b'])).toBeNull();
    expect(served.state('m', 'a')).toEqual({ kind: 'pending' });
    expect(served.reserve('m', ['c', 'b'])).toBe('b');
    // Nothing of a refused request is reserved.
    expect(served.state('m', 'c')).toEqual({ kind: 'unknown' });
    served.release('m', ['a', 'b']);
    expect(served.reserve('m', ['a'])).toBeNull();
    served.confirm('m', ['a'], 1);
    expect(served.state('m', 'a')).toEqual({ kind: 'served', label: null });
    expect(served.reserve('m', ['a'])).toBe('a');
    // Ids are per model.
    expect(served.reserve('other', ['a'])).toBeNull();
  });

  it('records a label per served id, and takes it back', () => {
    const served = new ServedRequests({ capacity: 10, isWritten: () => true });
    served.reserve('m', ['a']);
    served.confirm('m', ['a'], 7);
    served.setLabel('m', 'a', 1);
    expect(served.state('m', 'a')).toEqual({ kind: 'served', label: 1 });
    served.setLabel('m', 'a', null);
    expect(served.state('m', 'a')).toEqual({ kind: 'served', label: null });
    served.setLabel('m', 'a', 0);
    expect(served.state('m', 'a')).toEqual({ kind: 'served', label: 0 });
    served.remember('m', 'old', 1);
    expect(served.state('m', 'old')).toEqual({ kind: 'served', label: 1 });
  });

  it('forgets the oldest ids beyond capacity, but never one whose log row is not written yet', () => {
    let settled = 0;
    const served = new ServedRequests({ capacity: 3, isWritten: (position) => settled >= position });
    for (let i = 1; i <= 5; i++) {
      served.reserve('m', [`r${i}`]);
      served.confirm('m', [`r${i}`], i);
    }
    // Nothing written yet: all five kept.
    expect(served.size).toBe(5);
    settled = 1;
    served.reserve('m', ['r6']);
    served.confirm('m', ['r6'], 6);
    // r1 could go (written); r2 not yet.
    expect(served.state('m', 'r1')).toEqual({ kind: 'unknown' });
    expect(served.state('m', 'r2').kind).toBe('served');
    settled = 6;
    served.remember('m', 'r0', null);
    expect(served.size).toBe(3);
    expect(['r4', 'r5', 'r6', 'r0'].filter((id) => served.state('m', id).kind === 'served')).toEqual(['r5', 'r6', 'r0']);
  });

  it('stays bounded over many ids (the ring is compacted)', () => {
    const served = new ServedRequests({ capacity: 100, isWritten: () => true });
    for (let i = 0; i < 50_000; i++) {
      served.reserve('m', [`r${i}`]);
      served.confirm('m', [`r${i}`], i);
    }
    expect(served.size).toBe(100);
    expect(served.state('m', 'r49999').kind).toBe('served');
    expect(served.state('m', 'r49899').kind).toBe('unknown');
  });
});
