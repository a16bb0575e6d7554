import { createHash } from 'node:crypto';
import type { ModelSpec } from '../spec/model-spec';

/**
 * Hash of what a model's weights are tied to: features, label and the trainer's
 * kind and architecture. A warm start is only possible between versions with
 * the same signature; learning rates, epochs and seeds do not change it.
 */
export function trainingSignature(spec: ModelSpec): string {
  const trainer = spec.training.trainer;
  const architecture =
    trainer.kind === 'builtin'
      ? { kind: 'builtin', algorithm: trainer.algorithm, hiddenUnits: trainer.algorithm === 'mlp' ? trainer.hiddenUnits : null }
      : { kind: 'external', command: trainer.command };
  return createHash('sha256').update(JSON.stringify({ features: spec.features, label: spec.label, architecture })).digest('hex');
}
