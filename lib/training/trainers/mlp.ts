/**
 * A multi-layer perceptron with one hidden ReLU layer and a softmax output. The first
 * layer takes standardized numeric values and, per categorical feature, the weight row of
 * the row's category (one-hot × matrix without the one-hot). As in the logistic
 * regression, class 0 is the reference class (logit 0), so the output layer has
 * L = K - 1 logits and a binary MLP ends in a single sigmoid unit.
 *
 * Parameters, flat (H hidden units, R input rows, see InputLayout):
 * hidden weights R × H, hidden bias H, output weights H × L, output bias L.
 */
import type { Mulberry32 } from '../../stats/seeded-random';
import type { BuiltinAlgorithmDefinition, ModelShape } from './builtin-algorithm';
import type { MlpModel } from './builtin-model';
import type { EncodedRows } from './encoded-rows';
import { crossEntropyAgainstReference, softmaxAgainstReference } from './softmax';
import type { TrainingKernel } from './training-kernel';
import { copyMatrixToParameters, copyVectorToParameters, matrixFromParameters } from './weight-matrix';

/** Where each block of the flat parameter vector starts. */
interface MlpOffsets {
  hiddenBias: number;
  outputWeights: number;
  outputBias: number;
  size: number;
}

function offsets({ layout, hiddenUnits, classes }: ModelShape): MlpOffsets {
  const hiddenBias = layout.inputRows * hiddenUnits;
  const outputWeights = hiddenBias + hiddenUnits;
  const outputBias = outputWeights + hiddenUnits * (classes - 1);
  return { hiddenBias, outputWeights, outputBias, size: outputBias + classes - 1 };
}

export const mlp: BuiltinAlgorithmDefinition<MlpModel> = {
  algorithm: 'mlp',

  initialParameters(shape: ModelShape, random: Mulberry32) {
    const { layout, hiddenUnits } = shape;
    const at = offsets(shape);
    const params = new Float64Array(at.size);
    // He initialization for the ReLU layer: each hidden unit sums one row per numeric and
    // per categorical feature, so that is its fan-in. LeCun (variance 1 / H) for the output layer.
    const hiddenStd = Math.sqrt(2 / Math.max(1, layout.numericCount + layout.categoricalOffsets.length));
    for (let q = 0; q < at.hiddenBias; q++) params[q] = hiddenStd * random.nextGaussian();
    const outputStd = Math.sqrt(1 / hiddenUnits);
    for (let q = at.outputWeights; q < at.outputBias; q++) params[q] = outputStd * random.nextGaussian();
    return params;
  },

  parametersOf(model, shape) {
    const { layout, hiddenUnits, classes } = shape;
    const at = offsets(shape);
    const params = new Float64Array(at.size);
    const { hidden, output } = model.weights;
    copyMatrixToParameters(hidden.numeric, params, 0, layout.numericCount, hiddenUnits, 'MLP hidden numeric weights');
    if (hidden.categorical.length !== layout.categoricalOffsets.length) {
      throw new Error(`MLP has hidden weights for ${hidden.categorical.length} categorical features, expected ${layout.categoricalOffsets.length}`);
    }
    hidden.categorical.forEach((matrix, k) => {
      const feature = model.preprocessing.categorical[k]!;
      copyMatrixToParameters(matrix, params, layout.categoricalOffsets[k]! * hiddenUnits, feature.categories.length + 1, hiddenUnits, `MLP hidden weights of '${feature.name}'`);
    });
    copyVectorToParameters(hidden.bias, params, at.hiddenBias, hiddenUnits, 'MLP hidden bias');
    copyMatrixToParameters(output.weights, params, at.outputWeights, hiddenUnits, classes - 1, 'MLP output weights');
    copyVectorToParameters(output.bias, params, at.outputBias, classes - 1, 'MLP output bias');
    return params;
  },

  l2Coefficients(shape, l2) {
    const at = offsets(shape);
    const coefficients = new Float64Array(at.size).fill(l2);
    coefficients.fill(0, at.hiddenBias, at.outputWeights);
    coefficients.fill(0, at.outputBias);
    return coefficients;
  },

  createKernel(shape, params) {
    return new MlpKernel(shape, params);
  },

  modelOf(shape, params, common) {
    const { layout, hiddenUnits, classes } = shape;
    const at = offsets(shape);
    return {
      algorithm: 'mlp',
      ...common,
      hiddenUnits,
      weights: {
        hidden: {
          numeric: matrixFromParameters(params, 0, layout.numericCount, hiddenUnits),
          categorical: common.preprocessing.categorical.map((feature, k) =>
            matrixFromParameters(params, layout.categoricalOffsets[k]! * hiddenUnits, feature.categories.length + 1, hiddenUnits),
          ),
          bias: Array.from(params.subarray(at.hiddenBias, at.outputWeights)),
        },
        output: {
          weights: matrixFromParameters(params, at.outputWeights, hiddenUnits, classes - 1),
          bias: Array.from(params.subarray(at.outputBias)),
        },
      },
    };
  },
};

class MlpKernel implements TrainingKernel {
  readonly params: Float64Array;
  /** Output logits L = K - 1. */
  readonly #logits: number;
  readonly #hiddenUnits: number;
  readonly #at: MlpOffsets;
  /** Hidden activations (after ReLU) of the current row. */
  readonly #hidden: Float64Array;
  /** ∂loss/∂(hidden pre-activation) of the current row. */
  readonly #delta: Float64Array;
  /** The current row's logits (z[0] = 0 for the reference class), then probabilities, then errors. */
  readonly #z: Float64Array;

  constructor(shape: ModelShape, params: Float64Array) {
    this.params = params;
    this.#logits = shape.classes - 1;
    this.#hiddenUnits = shape.hiddenUnits;
    this.#at = offsets(shape);
    this.#hidden = new Float64Array(shape.hiddenUnits);
    this.#delta = new Float64Array(shape.hiddenUnits);
    this.#z = new Float64Array(shape.classes);
  }

  accumulateGradient(rows: EncodedRows, gradient: Float64Array): void {
    const { data, stride, numericCount, categoricalCount } = rows;
    const params = this.params;
    const logits = this.#logits;
    const units = this.#hiddenUnits;
    const { hiddenBias, outputWeights, outputBias } = this.#at;
    const hidden = this.#hidden;
    const delta = this.#delta;
    const z = this.#z;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      this.#forward(data, at, numericCount, categoricalCount);
      softmaxAgainstReference(z, logits);
      z[data[at + stride - 1]! | 0]! -= 1; // ∂loss/∂logit_c = p_c - [y = c]; z[0] is not a parameter's

      for (let c = 1; c <= logits; c++) gradient[outputBias + c - 1]! += z[c]!;
      for (let u = 0; u < units; u++) {
        const h = hidden[u]!;
        if (h <= 0) {
          delta[u] = 0; // ReLU passes no gradient where it is off
          continue;
        }
        const base = outputWeights + u * logits - 1;
        let back = 0;
        for (let c = 1; c <= logits; c++) {
          gradient[base + c]! += h * z[c]!;
          back += params[base + c]! * z[c]!;
        }
        delta[u] = back;
      }
      for (let u = 0; u < units; u++) gradient[hiddenBias + u]! += delta[u]!;
      for (let j = 0; j < numericCount; j++) {
        const x = data[at + j]!;
        const base = j * units;
        for (let u = 0; u < units; u++) gradient[base + u]! += delta[u]! * x;
      }
      for (let k = 0; k < categoricalCount; k++) {
        const base = (data[at + numericCount + k]! | 0) * units;
        for (let u = 0; u < units; u++) gradient[base + u]! += delta[u]!;
      }
    }
  }

  meanLoss(rows: EncodedRows): number {
    const { data, stride, numericCount, categoricalCount } = rows;
    let total = 0;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      this.#forward(data, at, numericCount, categoricalCount);
      total += crossEntropyAgainstReference(this.#z, this.#logits, data[at + stride - 1]! | 0);
    }
    return total / rows.rows;
  }

  predict(rows: EncodedRows, out: Float64Array): void {
    const { data, stride, numericCount, categoricalCount } = rows;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      this.#forward(data, at, numericCount, categoricalCount);
      softmaxAgainstReference(this.#z, this.#logits);
      out.set(this.#z, row * (this.#logits + 1));
    }
  }

  /** Hidden activations into this.#hidden; z[0] = 0 and the row's logits into z[1..L]. */
  #forward(data: Float64Array, at: number, numericCount: number, categoricalCount: number): void {
    const params = this.params;
    const logits = this.#logits;
    const units = this.#hiddenUnits;
    const { hiddenBias, outputWeights, outputBias } = this.#at;
    const hidden = this.#hidden;
    const z = this.#z;
    for (let u = 0; u < units; u++) hidden[u] = params[hiddenBias + u]!;
    for (let j = 0; j < numericCount; j++) {
      const x = data[at + j]!;
      const base = j * units;
      for (let u = 0; u < units; u++) hidden[u]! += params[base + u]! * x;
    }
    for (let k = 0; k < categoricalCount; k++) {
      const base = (data[at + numericCount + k]! | 0) * units;
      for (let u = 0; u < units; u++) hidden[u]! += params[base + u]!;
    }
    z[0] = 0;
    for (let c = 1; c <= logits; c++) z[c] = params[outputBias + c - 1]!;
    for (let u = 0; u < units; u++) {
      const h = hidden[u]! > 0 ? hidden[u]! : 0;
      hidden[u] = h;
      if (h === 0) continue;
      const base = outputWeights + u * logits - 1;
      for (let c = 1; c <= logits; c++) z[c]! += h * params[base + c]!;
    }
  }
}
