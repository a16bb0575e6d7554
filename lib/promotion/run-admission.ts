import type { Kysely } from 'kysely';
import type { ModelSpec } from '../spec/model-spec';
import { contractFeatures } from '../spec/serving-contract';
import { getApproverPolicy } from '../db/repositories/approver-policies';
import { findServingChampion } from '../db/repositories/deployments';
import type { Database } from '../db/schema';
import { unconfiguredApprovers } from '../policy/approver-check';
import { describeContractChange, isBreaking, servingContractChange } from '../policy/serving-contract-change';

/**
 * A run whose spec would break the serving champion's clients: its features differ from the
 * champion's serving contract in a way a client must change its requests for (a feature added,
 * removed or retyped). Permanent (lib/policy/permanent-errors.ts): the same spec is refused
 * again on every attempt.
 */
export class BreakingSpecChangeError extends Error {
  readonly type = 'BreakingSpecChange';
  constructor(message: string) {
    super(message);
    this.name = 'BreakingSpecChangeError';
  }
}

/**
 * A run whose spec names approvers the model's approver policy does not configure: a spec may
 * only narrow the configured list, never widen it. Permanent, like BreakingSpecChange.
 */
export class ApproverNotConfiguredError extends Error {
  readonly type = 'ApproverNotConfigured';
  constructor(message: string) {
    super(message);
    this.name = 'ApproverNotConfiguredError';
  }
}

export interface RunAdmissionInput {
  spec: ModelSpec;
  /** The run was started as a breaking change (`retrain run --breaking-change`): its clients are expected to change their requests. */
  breakingChange: boolean;
}

/**
 * Checks, before a run records anything, that its spec may start a run.
 *
 * Approvers: with strategy 'safe', every name in `promotion.approval.approvers` must be one the
 * model's approver policy configures (set by an operator with `retrain approvers set`), since
 * the spec may only narrow that list; otherwise the run is refused naming the names. Without a
 * policy, a run that would need an approval (a champion serves) is refused saying how to set one;
 * a model's first run, promoted directly, needs none.
 *
 * Serving contract: a spec whose features
 * would break the clients of the version serving the model is refused (naming each feature and
 * the version), unless the model has no serving champion (a new model name: nobody's requests to
 * break) or the run is marked as a breaking change. A marked breaking change still cannot take
 * the live path (strategy 'safe'): the shadow and the canary are fed the champion's requests,
 * which the candidate cannot read, so it must be promoted directly or under a new model name.
 */
export async function admitPipelineRun(db: Kysely<Database>, input: RunAdmissionInput): Promise<void> {
  await checkApprovers(db, input.spec);
  await checkServingContract(db, input);
}

async function checkApprovers(db: Kysely<Database>, spec: ModelSpec): Promise<void> {
  // Specs recorded before `promotion` existed carry none (and take the direct path).
  const promotion = (spec as Partial<ModelSpec>).promotion;
  if (promotion?.strategy !== 'safe') return;
  const policy = await getApproverPolicy(db, spec.name);
  if (!policy) {
    // A model's first champion is promoted directly; once one serves, a safe run ends waiting for people, who must be named first.
    if (await findServingChampion(db, spec.name)) {
      throw new ApproverNotConfiguredError(
        `promotion.strategy is 'safe' but nobody is configured to approve '${spec.name}': an operator names the approvers first, ` +
          `\`retrain approvers set --model ${spec.name} <name>... --by <you> --reason <why>\` (or set promotion.strategy to 'direct')`,
      );
    }
    return;
  }
  if (promotion.approval.approvers.length === 0) return;
  const unknown = unconfiguredApprovers(policy.approvers, promotion.approval.approvers);
  if (unknown.length === 0) return;
  throw new ApproverNotConfiguredError(
    `the spec of '${spec.name}' names ${unknown.map((n) => `'${n}'`).join(', ')} in promotion.approval.approvers, not among the approvers configured for the model ` +
      `(${policy.approvers.join(', ')}; revision ${policy.revision}): a spec may only narrow that list. Remove the name, or have an operator add it with retrain approvers set`,
  );
}

async function checkServingContract(db: Kysely<Database>, input: RunAdmissionInput): Promise<void> {
  const { spec } = input;
  const champion = await findServingChampion(db, spec.name);
  if (!champion) return;
  const change = servingContractChange(champion.contract.features, contractFeatures(spec.features));
  if (!isBreaking(change)) return;
  const what = `the spec of '${spec.name}' ${describeContractChange(change)}, which the serving champion v${champion.version}'s clients would have to change their requests for`;
  if (!input.breakingChange) {
    throw new BreakingSpecChangeError(
      `${what}: refused. Start the run as a breaking change (retrain run --breaking-change, or breakingChange: true in the run's input) once its clients are ready, or use a new model name`,
    );
  }
  if ((spec as Partial<ModelSpec>).promotion?.strategy === 'safe') {
    throw new BreakingSpecChangeError(
      `${what}, and promotion.strategy is 'safe': a shadow or canary is fed the champion's requests, which the candidate cannot read. Promote a breaking change with strategy 'direct', or use a new model name`,
    );
  }
}
