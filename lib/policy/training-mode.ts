import type { TrainerSpec, TrainingPolicySpec } from '../spec/model-spec';

export type TrainingMode = 'from_scratch' | 'fine_tune';

/** What the policy needs to know about the model's history; gathered by an activity, decided in the workflow. */
export interface TrainingContext {
  /** The current champion, or null when the model has none. */
  champion: {
    versionId: string;
    version: number;
    /** Hash of the features, label and trainer kind/algorithm the champion was trained with. */
    trainingSignature: string;
    /**
     * The champion learned from this run's held-out day (its own window or one it inherited):
     * a fine-tune of it would be evaluated on its own training data. Absent in contexts
     * recorded before it existed.
     */
    sawHoldout?: boolean;
  } | null;
  /** The same hash for this run's spec. */
  trainingSignature: string;
  /** Training runs of this model since (and excluding) the last from-scratch run; null: never trained from scratch. */
  runsSinceScratch: number | null;
  /** Days between this run's day and the day of the last from-scratch run; null: none. */
  daysSinceScratch: number | null;
  /** The highest feature drift score (PSI) between the champion's training data and this window, with its feature. */
  worstDrift: { feature: string; score: number } | null;
  /**
   * The decision of an earlier run on exactly this data with the same trainer
   * settings: repeating a run must repeat its decision, or it would train again.
   */
  previousDecision: TrainingModeDecision | null;
}

export interface TrainingModeDecision {
  mode: TrainingMode;
  reason: string;
  /** The version to warm-start from when fine-tuning. */
  baseVersionId: string | null;
}

/**
 * Fine-tune often because it is cheap; retrain from scratch when a rule says
 * the champion is no longer a good starting point. The first rule that fires
 * names the reason. Pure: the workflow calls it.
 */
export function chooseTrainingMode(context: TrainingContext, policy: TrainingPolicySpec, trainer: TrainerSpec): TrainingModeDecision {
  const scratch = (reason: string): TrainingModeDecision => ({ mode: 'from_scratch', reason, baseVersionId: null });
  if (context.previousDecision) return context.previousDecision;
  const { champion } = context;
  if (!champion) return scratch('no champion to start from');
  if (champion.sawHoldout) return scratch(`champion v${champion.version} learned from this run's held-out day: a fine-tune of it would be evaluated on its own training data`);
  if (!policy.fineTune) return scratch('fine-tuning is disabled (training.policy.fineTune = false)');
  if (trainer.kind === 'external' && !trainer.supportsWarmStart) return scratch('the external trainer does not support warm starts');
  if (champion.trainingSignature !== context.trainingSignature) {
    return scratch(`features, label or trainer changed since champion v${champion.version}`);
  }
  if (context.runsSinceScratch === null) return scratch('no from-scratch run on record');
  if (context.runsSinceScratch + 1 >= policy.scratchEveryNthRun) {
    return scratch(`every ${policy.scratchEveryNthRun}th run is from scratch (${context.runsSinceScratch} fine-tuning runs since the last one)`);
  }
  if (context.daysSinceScratch !== null && context.daysSinceScratch > policy.maxDaysSinceScratch) {
    return scratch(`the last from-scratch model is ${context.daysSinceScratch} days old (limit ${policy.maxDaysSinceScratch})`);
  }
  if (context.worstDrift && context.worstDrift.score > policy.maxFeatureDrift) {
    return scratch(
      `feature '${context.worstDrift.feature}' drifted: PSI ${context.worstDrift.score.toFixed(3)} > ${policy.maxFeatureDrift} vs the champion's training data`,
    );
  }
  const drift = context.worstDrift ? `; largest drift ${context.worstDrift.feature} PSI ${context.worstDrift.score.toFixed(3)}` : '';
  return {
    mode: 'fine_tune',
    reason: `fine-tuning champion v${champion.version} (${context.runsSinceScratch + 1} of ${policy.scratchEveryNthRun - 1} runs between from-scratch runs${drift})`,
    baseVersionId: champion.versionId,
  };
}
