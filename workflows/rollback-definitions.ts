/**
 * The rollbackChampion workflow's name, id and payloads, importable by clients (the CLI, tests)
 * without workflow code. Start it from the Temporal UI (Start Workflow: type `rollbackChampion`,
 * the control task queue, input `{"model", "approver", "reason", "toVersion"?}`) or with
 * `retrain rollback --model M`.
 */

export const ROLLBACK_CHAMPION = 'rollbackChampion';

/** A rollback after promotion, as a person asks for it. */
export interface RollbackChampionInput {
  model: string;
  /** The archived version to restore; omitted: the champion the current one replaced. */
  toVersion?: number;
  /** Who asks: one of the model's approvers (`retrain approvers show`). */
  approver: string;
  reason: string;
}

export interface RollbackChampionResult {
  /** False when there was nothing to change (the rollback was done already): the message says why. */
  changed: boolean;
  model: string;
  demotedVersion: number | null;
  championVersion: number;
  revision: number | null;
  message: string;
}

/** The id `retrain rollback --model M` gives its request: one run per request, named by the model and when it was asked. */
export function rollbackChampionId(model: string, requestedAt: Date): string {
  return `rollback/${model}/${requestedAt.toISOString()}`;
}
