import { isCalendarDay } from '../spec/calendar-day';

/** A run's day that is not a calendar day YYYY-MM-DD; the workflow turns it into an InvalidWorkflowInput failure. */
export class InvalidDayError extends Error {
  readonly type = 'InvalidDay';
  /** What is wrong, without the context: "must be a date YYYY-MM-DD, got '2001-13-45'". */
  readonly problem: string;
  constructor(readonly day: string) {
    const problem = `must be a date YYYY-MM-DD, got '${day}'`;
    super(`invalid day: ${problem}`);
    this.name = 'InvalidDayError';
    this.problem = problem;
  }
}

/**
 * The partitions one pipeline run needs: the trailing training window before
 * `day` (oldest first) and `day` itself, the newest data, held out for evaluation.
 * Pure string arithmetic on UTC calendar days so workflows can call it.
 * @throws InvalidDayError when `day` is not a calendar day YYYY-MM-DD
 */
export function partitionsForRun(day: string, windowPartitions: number): { training: string[]; holdout: string } {
  if (!isCalendarDay(day)) throw new InvalidDayError(day);
  const base = Date.parse(`${day}T00:00:00Z`);
  const training: string[] = [];
  for (let back = windowPartitions; back >= 1; back--) {
    training.push(new Date(base - back * 86_400_000).toISOString().slice(0, 10));
  }
  return { training, holdout: day };
}
