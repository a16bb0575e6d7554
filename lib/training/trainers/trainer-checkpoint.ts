/**
 * The state of a built-in training run after an epoch: enough to continue it so that the
 * result is bit-for-bit the model an uninterrupted run would have produced. Plain JSON
 * (float64 values survive JSON.stringify / JSON.parse exactly), stored in S3 by the
 * training activity and parsed with `parseTrainerCheckpoint` when an attempt resumes.
 */
import { z } from 'zod';
import { BuiltinAlgorithm, BuiltinModel } from './builtin-model';

export const TRAINER_CHECKPOINT_VERSION = 1;

export const TrainerCheckpoint = z.object({
  version: z.literal(TRAINER_CHECKPOINT_VERSION),
  algorithm: BuiltinAlgorithm,
  /** Completed epochs; a resumed run starts with epoch `epoch + 1`. */
  epoch: z.number().int().positive(),
  /** Epochs of the whole run: the learning-rate schedule depends on it, so a resumed run must have the same. */
  epochs: z.number().int().positive(),
  /** Weights and preprocessing after `epoch` epochs; `model.training.lossHistory` has one loss per completed epoch. */
  model: BuiltinModel,
  /** Adam's state, moments in the order of the algorithm's flat parameter vector. */
  optimizer: z.object({
    step: z.number().int().nonnegative(),
    firstMoment: z.array(z.number()),
    secondMoment: z.array(z.number()),
  }),
  /** Mulberry32 state after the epoch; the next epoch's shuffle continues from it. */
  randomState: z.number().int().min(0).max(0xffffffff),
});
export type TrainerCheckpoint = z.infer<typeof TrainerCheckpoint>;

/** Parses a checkpoint read from outside, checking that its parts agree with each other. */
export function parseTrainerCheckpoint(input: unknown, origin = 'trainer checkpoint'): TrainerCheckpoint {
  const result = TrainerCheckpoint.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`invalid ${origin}: ${problems}`);
  }
  const checkpoint = result.data;
  if (checkpoint.model.algorithm !== checkpoint.algorithm) {
    throw new Error(`invalid ${origin}: algorithm is '${checkpoint.algorithm}' but the model is '${checkpoint.model.algorithm}'`);
  }
  if (checkpoint.epoch > checkpoint.epochs) throw new Error(`invalid ${origin}: epoch ${checkpoint.epoch} of a run of ${checkpoint.epochs} epochs`);
  if (checkpoint.model.training.lossHistory.length !== checkpoint.epoch) {
    throw new Error(`invalid ${origin}: epoch ${checkpoint.epoch} but ${checkpoint.model.training.lossHistory.length} losses`);
  }
  return checkpoint;
}
