/**
 * What a rollback after promotion restores, decided from the model's state (pure: the traffic
 * move in lib/promotion/traffic-moves.ts gathers the facts inside its transaction and applies
 * the plan). `retrain rollback --model M` undoes the last promotion: it restores the champion
 * the current one replaced. A repeated request finds the champion put back by a rollback and
 * changes nothing; going further back takes a named version (`--to-version N`), which must be a
 * former champion (archived).
 */

export interface VersionFact {
  id: string;
  version: number;
  /** model_versions.stage */
  stage: string;
}

export interface ChampionRollbackFacts {
  model: string;
  /** The version the deployment serves as champion; null when none does. */
  champion: VersionFact | null;
  /** The canary taking traffic now, if one does. */
  canary: { version: number; weight: number } | null;
  /** The last change of the deployment's champion: who was champion before it, and whether it was a rollback. */
  lastChampionChange: { previous: VersionFact | null; byRollback: boolean; at: string; reason: string } | null;
  /** The version named by --to-version: undefined when none was named, null when it does not exist. */
  requested?: VersionFact | null;
  requestedVersion?: number;
}

export type ChampionRollbackPlan =
  | { action: 'restore'; demote: VersionFact; restore: VersionFact }
  | { action: 'unchanged'; message: string }
  | { action: 'refused'; message: string };

/** A rollback that cannot be done as asked (nothing to restore, a version that was never champion, a canary running). */
export class RollbackRefused extends Error {
  readonly type = 'RollbackRefused';
  constructor(message: string) {
    super(message);
    this.name = 'RollbackRefused';
  }
}

export function planChampionRollback(facts: ChampionRollbackFacts): ChampionRollbackPlan {
  const { model, champion, canary, lastChampionChange: last } = facts;
  if (!champion) return { action: 'refused', message: `${model} has no champion serving traffic: there is nothing to roll back` };
  if (facts.requestedVersion !== undefined) {
    const requested = facts.requested;
    if (!requested) return { action: 'refused', message: `${model} has no version ${facts.requestedVersion}` };
    if (requested.id === champion.id) return { action: 'unchanged', message: `${model} v${champion.version} is already the champion: nothing changed` };
    if (requested.stage !== 'archived') {
      return { action: 'refused', message: `${model} v${requested.version} is ${requested.stage}, not a former champion (archived): only an archived version can be restored` };
    }
    if (canary) return { action: 'refused', message: canaryRunning(model, champion, canary) };
    return { action: 'restore', demote: champion, restore: requested };
  }
  if (last?.byRollback) {
    return {
      action: 'unchanged',
      message: `${model} v${champion.version} is the champion since a rollback (${last.at}: ${last.reason}): nothing changed; to go further back, name the version (--to-version N)`,
    };
  }
  const previous = last?.previous ?? null;
  if (!previous) return { action: 'refused', message: `${model} v${champion.version} is the model's first champion: there is no previous champion to restore` };
  if (previous.stage !== 'archived') {
    return { action: 'refused', message: `the champion before ${model} v${champion.version}, v${previous.version}, is ${previous.stage}, not archived: name an archived version to restore (--to-version N)` };
  }
  if (canary) return { action: 'refused', message: canaryRunning(model, champion, canary) };
  return { action: 'restore', demote: champion, restore: previous };
}

function canaryRunning(model: string, champion: VersionFact, canary: { version: number; weight: number }): string {
  return `a canary of ${model} v${canary.version} takes ${Math.round(canary.weight * 1000) / 10}% of the traffic, compared with v${champion.version}: roll the canary back first (retrain rollback --model ${model} --day <its day>), then the champion`;
}
