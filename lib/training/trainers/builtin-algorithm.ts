/**
 * What the shared training loop needs from each built-in algorithm: how its parameters
 * are laid out, initialized, regularized and turned back into a JSON model.
 */
import type { Mulberry32 } from '../../stats/seeded-random';
import type { BuiltinModel } from './builtin-model';
import type { InputLayout } from './encoded-rows';
import type { TrainingKernel } from './training-kernel';

/** The sizes that fix an algorithm's parameter layout. */
export interface ModelShape {
  readonly classes: number;
  /** Hidden units of the MLP; logistic regression has none (0). */
  readonly hiddenUnits: number;
  readonly layout: InputLayout;
}

/** The fields every built-in model has besides its weights. */
export type CommonModelFields = Pick<BuiltinModel, 'classes' | 'features' | 'preprocessing' | 'training'>;

export interface BuiltinAlgorithmDefinition<M extends BuiltinModel = BuiltinModel> {
  readonly algorithm: M['algorithm'];
  /** Parameters of a from-scratch run; draws from `random` when the algorithm needs random weights. */
  initialParameters(shape: ModelShape, random: Mulberry32): Float64Array;
  /** A model's weights as the flat vector, after checking every array against `shape`. */
  parametersOf(model: M, shape: ModelShape): Float64Array;
  /** L2 coefficient of each parameter: `l2` for weights, 0 for biases. */
  l2Coefficients(shape: ModelShape, l2: number): Float64Array;
  createKernel(shape: ModelShape, params: Float64Array): TrainingKernel;
  modelOf(shape: ModelShape, params: Float64Array, common: CommonModelFields): M;
}
