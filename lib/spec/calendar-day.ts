import { z } from 'zod';

/**
 * Whether `day` is a real calendar day written YYYY-MM-DD (UTC). The round trip through
 * an ISO string rejects days like 2001-02-30 that some engines' Date.parse accepts.
 * Pure: workflows call it.
 */
export function isCalendarDay(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day;
}

/** A run's day in workflow input: one message for every way it can be wrong. */
export const CalendarDay = z.string().refine(isCalendarDay, 'must be a date YYYY-MM-DD');
