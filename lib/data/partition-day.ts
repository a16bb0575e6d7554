import { z } from 'zod';

/**
 * A daily partition's day, 'YYYY-MM-DD'. All arithmetic is done on UTC midnights,
 * so results never depend on the host's time zone or daylight-saving changes.
 */
export const PartitionDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day as YYYY-MM-DD')
  .refine((day) => isCalendarDay(day), 'is not a calendar day');
export type PartitionDay = z.infer<typeof PartitionDay>;

const MS_PER_DAY = 86_400_000;

function isCalendarDay(day: string): boolean {
  const ms = Date.parse(`${day}T00:00:00Z`);
  // Date.parse accepts 2001-02-30 only in some engines; the round trip rejects it everywhere.
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/** Validates a day string, throwing e.g. "invalid partition day '2001-02-30': is not a calendar day". */
export function parsePartitionDay(input: unknown, what = 'partition day'): PartitionDay {
  const result = PartitionDay.safeParse(input);
  if (!result.success) {
    const reasons = result.error.issues.map((i) => i.message).join('; ');
    throw new Error(`invalid ${what} ${JSON.stringify(input)}: ${reasons}`);
  }
  return result.data;
}

/** Milliseconds since the epoch of the day's UTC midnight. */
export function dayToEpochMs(day: string): number {
  return Date.parse(`${parsePartitionDay(day)}T00:00:00Z`);
}

/** The UTC day a timestamp falls on. */
export function dayOf(date: Date): PartitionDay {
  if (Number.isNaN(date.getTime())) throw new Error('dayOf: invalid Date');
  return date.toISOString().slice(0, 10);
}

/** The day `n` days after `day` (negative `n` goes back). */
export function addDays(day: string, n: number): PartitionDay {
  if (!Number.isInteger(n)) throw new Error(`addDays: n must be an integer, got ${n}`);
  return dayOf(new Date(dayToEpochMs(day) + n * MS_PER_DAY));
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((dayToEpochMs(to) - dayToEpochMs(from)) / MS_PER_DAY);
}

/** Every day from `from` to `to`, both inclusive, oldest first; throws when `to` is before `from`. */
export function daysInRange(from: string, to: string): PartitionDay[] {
  const count = daysBetween(from, to) + 1;
  if (count < 1) throw new Error(`invalid day range: ${to} is before ${from}`);
  return Array.from({ length: count }, (_, i) => addDays(from, i));
}

/**
 * The training window of a run on `day`: the `n` days before it, oldest first
 * (the run's own day is not part of it).
 * @example trainingWindowDays('2001-01-08', 3) // ['2001-01-05', '2001-01-06', '2001-01-07']
 */
export function trainingWindowDays(day: string, n: number): PartitionDay[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`trainingWindowDays: n must be a positive integer, got ${n}`);
  return daysInRange(addDays(day, -n), addDays(day, -1));
}
