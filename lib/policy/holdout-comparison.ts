/**
 * Which model a candidate is compared with on a held-out day, so that no evaluation scores a
 * model on data it was trained on. A version's training days include those it inherited by
 * fine-tuning (lib/db/repositories/version-lineage.ts). Pure: the evaluation activity applies
 * it and the workflow reads its verdict.
 */

/** A version and the days it learned from. */
export interface VersionTrainingHistory {
  versionId: string;
  version: number;
  /** Registry stage: champion, archived, candidate, rejected, … */
  stage: string;
  trainedOnDays: readonly string[];
}

export interface HoldoutComparison {
  /** The version the candidate is compared with, or null: absolute gates only. */
  comparatorVersionId: string | null;
  comparatorVersion: number | null;
  /** The champion when the evaluation ran. */
  championVersion: number | null;
  /**
   * The champion learned from the held-out day: it was trained on newer data than this run's
   * window (a re-run or backfill of an old window), so this run must not replace it.
   */
  championSawHoldout: boolean;
  /** The candidate learned from the held-out day (through its fine-tuning base): its metrics there are on training data. */
  candidateSawHoldout: boolean;
  /** What a person must know when the comparison is not the plain "candidate vs champion"; null otherwise. */
  note: string | null;
}

/** Stages of versions that served as champion: the ones worth comparing with. */
const SERVED_STAGES = new Set(['champion', 'archived']);

export function chooseHoldoutComparison(input: {
  holdoutDay: string;
  candidateVersionId: string;
  championVersionId: string | null;
  versions: readonly VersionTrainingHistory[];
}): HoldoutComparison {
  const { holdoutDay, versions } = input;
  const saw = (v: VersionTrainingHistory | undefined) => v !== undefined && v.trainedOnDays.includes(holdoutDay);
  const candidate = versions.find((v) => v.versionId === input.candidateVersionId);
  const champion = input.championVersionId === null ? undefined : versions.find((v) => v.versionId === input.championVersionId);
  const candidateSawHoldout = saw(candidate);
  const candidateNote = candidateSawHoldout
    ? `candidate v${candidate!.version} learned from ${holdoutDay} (trained on ${describeDays(candidate!.trainedOnDays)}): its metrics there are on its own training data`
    : null;
  const plain = (comparator: VersionTrainingHistory | undefined): HoldoutComparison => ({
    comparatorVersionId: comparator?.versionId ?? null,
    comparatorVersion: comparator?.version ?? null,
    championVersion: champion?.version ?? null,
    championSawHoldout: false,
    candidateSawHoldout,
    note: candidateNote,
  });
  if (!champion || champion.versionId === input.candidateVersionId || !saw(champion)) return plain(champion);

  const earlier = versions
    .filter((v) => v.versionId !== input.candidateVersionId && SERVED_STAGES.has(v.stage) && !saw(v))
    .sort((a, b) => b.version - a.version)[0];
  const sawIt = `champion v${champion.version} learned from ${holdoutDay} (trained on ${describeDays(champion.trainedOnDays)})`;
  const instead = earlier
    ? `compared with v${earlier.version} instead, the newest earlier champion that did not`
    : 'no earlier champion did not, so the candidate is held to the absolute gates only';
  return {
    comparatorVersionId: earlier?.versionId ?? null,
    comparatorVersion: earlier?.version ?? null,
    championVersion: champion.version,
    championSawHoldout: true,
    candidateSawHoldout,
    note: [`${sawIt}: ${instead}; a run of this older window never replaces it`, candidateNote].filter(Boolean).join('; '),
  };
}

/** "2001-01-03..2001-01-09" for consecutive days, "7 days from 2001-01-01 to 2001-01-20" otherwise. */
export function describeDays(days: readonly string[]): string {
  if (days.length === 0) return 'no days';
  const sorted = [...days].sort();
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  if (sorted.length === 1) return first;
  const span = Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
  return span === sorted.length ? `${first}..${last}` : `${sorted.length} days from ${first} to ${last}`;
}
