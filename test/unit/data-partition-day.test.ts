import { describe, it, expect } from 'vitest';
import { addDays, dayOf, daysBetween, daysInRange, parsePartitionDay, trainingWindowDays } from '../../lib/data/partition-day';

describe('parsePartitionDay', () => {
  it('accepts calendar days, including leap days', () => {
    expect(parsePartitionDay('2001-01-08')).toBe('2001-01-08');
    expect(parsePartitionDay('2000-02-29')).toBe('2000-02-29');
  });

  it('rejects malformed strings and days that do not exist, quoting the input', () => {
    expect(() => parsePartitionDay('2001-1-8')).toThrow(`invalid partition day "2001-1-8": must be a day as YYYY-MM-DD`);
    expect(() => parsePartitionDay('2001-02-29')).toThrow('is not a calendar day');
    expect(() => parsePartitionDay('2001-13-01')).toThrow('is not a calendar day');
    expect(() => parsePartitionDay('2001-01-08T00:00:00Z')).toThrow('YYYY-MM-DD');
    expect(() => parsePartitionDay(20010108, 'from day')).toThrow('invalid from day 20010108');
  });
});

describe('day arithmetic', () => {
  it('crosses month, year and leap-day boundaries', () => {
    expect(addDays('2001-01-31', 1)).toBe('2001-02-01');
    expect(addDays('2000-12-31', 1)).toBe('2001-01-01');
    expect(addDays('2001-01-01', -1)).toBe('2000-12-31');
    expect(addDays('2000-02-28', 1)).toBe('2000-02-29');
    expect(addDays('2001-02-28', 1)).toBe('2001-03-01');
    expect(addDays('2001-01-08', 0)).toBe('2001-01-08');
  });

  it('is not shifted by daylight-saving changes', () => {
    // US DST began 2001-04-01 and ended 2001-10-28; a local-time implementation would slip an hour here.
    expect(addDays('2001-03-31', 1)).toBe('2001-04-01');
    expect(addDays('2001-04-01', 1)).toBe('2001-04-02');
    expect(addDays('2001-10-28', 1)).toBe('2001-10-29');
    expect(daysBetween('2001-03-01', '2001-11-01')).toBe(245);
  });

  it('counts days between two days and lists an inclusive range', () => {
    expect(daysBetween('2001-01-01', '2001-07-01')).toBe(181);
    expect(daysBetween('2001-01-08', '2001-01-01')).toBe(-7);
    expect(daysInRange('2001-02-27', '2001-03-02')).toEqual(['2001-02-27', '2001-02-28', '2001-03-01', '2001-03-02']);
    expect(daysInRange('2001-01-08', '2001-01-08')).toEqual(['2001-01-08']);
    expect(() => daysInRange('2001-01-08', '2001-01-07')).toThrow('2001-01-07 is before 2001-01-08');
  });

  it('takes the UTC day of a timestamp', () => {
    expect(dayOf(new Date('2001-01-08T23:59:59.999Z'))).toBe('2001-01-08');
    expect(dayOf(new Date('2001-01-08T23:30:00-05:00'))).toBe('2001-01-09');
  });

  it('rejects non-integer offsets', () => {
    expect(() => addDays('2001-01-08', 0.5)).toThrow('integer');
  });
});

describe('trainingWindowDays', () => {
  it('is the n days before the run day, oldest first, without the run day', () => {
    expect(trainingWindowDays('2001-01-08', 7)).toEqual([
      '2001-01-01',
      '2001-01-02',
      '2001-01-03',
      '2001-01-04',
      '2001-01-05',
      '2001-01-06',
      '2001-01-07',
    ]);
    expect(trainingWindowDays('2001-03-01', 2)).toEqual(['2001-02-27', '2001-02-28']);
  });

  it('rejects an empty or fractional window and an invalid day', () => {
    expect(() => trainingWindowDays('2001-01-08', 0)).toThrow('positive integer');
    expect(() => trainingWindowDays('2001-01-08', 1.5)).toThrow('positive integer');
    expect(() => trainingWindowDays('2001-02-30', 7)).toThrow('is not a calendar day');
  });
});
