/**
 * Multinomial (softmax) logistic regression with class 0 as the reference class: classes
 * 1..K-1 have a logit each (a weight per input row and a bias), class 0's logit is fixed at
 * 0, and P = softmax(0, logit_1, ..., logit_{K-1}). This is the baseline-category logit
 * model; with K = 2 it is exactly binary logistic regression (one weight vector, as in
 * scikit-learn), so binary runs cost no more than before and keep the meaning of their
 * learning rate. The L2 penalty (weights, not biases) is measured against class 0.
 *
 * Parameters, flat, with L = K - 1 logits: for each input row r (see InputLayout) the
 * L weights at [r·L, r·L + L), then the L biases.
 */
import type { BuiltinAlgorithmDefinition, ModelShape } from './builtin-algorithm';
import type { LogisticRegressionModel } from './builtin-model';
import type { EncodedRows } from './encoded-rows';
import { binaryCrossEntropy, crossEntropyAgainstReference, sigmoid, softmaxAgainstReference } from './softmax';
import type { TrainingKernel } from './training-kernel';
import { copyMatrixToParameters, copyVectorToParameters, matrixFromParameters } from './weight-matrix';

export const logisticRegression: BuiltinAlgorithmDefinition<LogisticRegressionModel> = {
  algorithm: 'logistic_regression',

  initialParameters(shape) {
    // A convex problem: zeros are as good a start as any, and need no random numbers.
    return new Float64Array(parameterCount(shape));
  },

  parametersOf(model, shape) {
    const { layout } = shape;
    const logits = shape.classes - 1;
    const params = new Float64Array(parameterCount(shape));
    copyMatrixToParameters(model.weights.numeric, params, 0, layout.numericCount, logits, 'logistic regression numeric weights');
    if (model.weights.categorical.length !== layout.categoricalOffsets.length) {
      throw new Error(`logistic regression has weights for ${model.weights.categorical.length} categorical features, expected ${layout.categoricalOffsets.length}`);
    }
    model.weights.categorical.forEach((matrix, k) => {
      const feature = model.preprocessing.categorical[k]!;
      copyMatrixToParameters(matrix, params, layout.categoricalOffsets[k]! * logits, feature.categories.length + 1, logits, `logistic regression weights of '${feature.name}'`);
    });
    copyVectorToParameters(model.weights.bias, params, layout.inputRows * logits, logits, 'logistic regression bias');
    return params;
  },

  l2Coefficients(shape, l2) {
    const coefficients = new Float64Array(parameterCount(shape)).fill(l2);
    coefficients.fill(0, shape.layout.inputRows * (shape.classes - 1));
    return coefficients;
  },

  createKernel(shape, params) {
    return shape.classes === 2 ? new BinaryKernel(shape, params) : new SoftmaxKernel(shape, params);
  },

  modelOf(shape, params, common) {
    const { layout } = shape;
    const logits = shape.classes - 1;
    return {
      algorithm: 'logistic_regression',
      ...common,
      weights: {
        numeric: matrixFromParameters(params, 0, layout.numericCount, logits),
        categorical: common.preprocessing.categorical.map((feature, k) =>
          matrixFromParameters(params, layout.categoricalOffsets[k]! * logits, feature.categories.length + 1, logits),
        ),
        bias: Array.from(params.subarray(layout.inputRows * logits)),
      },
    };
  },
};

function parameterCount(shape: ModelShape): number {
  return (shape.layout.inputRows + 1) * (shape.classes - 1);
}

/** K = 2: one logit per row, P(class 1) = σ(logit). The hot path of the flight-delay benchmark. */
class BinaryKernel implements TrainingKernel {
  readonly params: Float64Array;
  readonly #bias: number;

  constructor(shape: ModelShape, params: Float64Array) {
    this.params = params;
    this.#bias = shape.layout.inputRows;
  }

  accumulateGradient(rows: EncodedRows, gradient: Float64Array): void {
    const { data, stride, numericCount, categoricalCount } = rows;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      const error = sigmoid(this.#logit(data, at, numericCount, categoricalCount)) - data[at + stride - 1]!;
      for (let j = 0; j < numericCount; j++) gradient[j]! += error * data[at + j]!;
      for (let k = 0; k < categoricalCount; k++) gradient[data[at + numericCount + k]! | 0]! += error;
      gradient[this.#bias]! += error;
    }
  }

  meanLoss(rows: EncodedRows): number {
    const { data, stride, numericCount, categoricalCount } = rows;
    let total = 0;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      total += binaryCrossEntropy(this.#logit(data, at, numericCount, categoricalCount), data[at + stride - 1]!);
    }
    return total / rows.rows;
  }

  predict(rows: EncodedRows, out: Float64Array): void {
    const { data, stride, numericCount, categoricalCount } = rows;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      const p = sigmoid(this.#logit(data, at, numericCount, categoricalCount));
      out[2 * row] = 1 - p;
      out[2 * row + 1] = p;
    }
  }

  #logit(data: Float64Array, at: number, numericCount: number, categoricalCount: number): number {
    const params = this.params;
    let z = params[this.#bias]!;
    for (let j = 0; j < numericCount; j++) z += params[j]! * data[at + j]!;
    for (let k = 0; k < categoricalCount; k++) z += params[data[at + numericCount + k]! | 0]!;
    return z;
  }
}

/** K ≥ 3: K - 1 logits per row against the reference class 0. */
class SoftmaxKernel implements TrainingKernel {
  readonly params: Float64Array;
  readonly #logits: number;
  readonly #bias: number;
  /** The current row's logits (z[0] = 0 for the reference class), then probabilities, then errors. */
  readonly #z: Float64Array;

  constructor(shape: ModelShape, params: Float64Array) {
    this.params = params;
    this.#logits = shape.classes - 1;
    this.#bias = shape.layout.inputRows * this.#logits;
    this.#z = new Float64Array(shape.classes);
  }

  accumulateGradient(rows: EncodedRows, gradient: Float64Array): void {
    const { data, stride, numericCount, categoricalCount } = rows;
    const logits = this.#logits;
    const bias = this.#bias;
    const z = this.#z;
    for (let row = 0, at = 0; row < rows.rows; row++, at += stride) {
      this.#forward(data, at, numericCount, categoricalCount);
      softmaxAgainstReference(z, logits);
      z[data[at + stride - 1]! | 0]! -= 1; // ∂loss/∂logit_c = p_c - [y = c]; z[0] is not a parameter's
      for (let j = 0; j < numericCount; j++) {
        const x = data[at + j]!;
        const base = j * logits - 1;
        for (let c = 1; c <= logits; c++) gradient[base + c]! += z[c]! * x;
      }
      for (let k = 0; k < categoricalCount; k++) {
        const base = (data[at + numericCount + k]! | 0) * logits - 1;
        for (let c = 1; c <= logits; c++) gradient[base + c]! += z[c]!;
      }
      for (let c = 1; c <= logits; c++) gradient[bias + c - 1]! += z[c]!;
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

  /** z[0] = 0 and z[1..L] = the row's logits. */
  #forward(data: Float64Array, at: number, numericCount: number, categoricalCount: number): void {
    const params = this.params;
    const logits = this.#logits;
    const z = this.#z;
    z[0] = 0;
    for (let c = 1; c <= logits; c++) z[c] = params[this.#bias + c - 1]!;
    for (let j = 0; j < numericCount; j++) {
      const x = data[at + j]!;
      const base = j * logits - 1;
      for (let c = 1; c <= logits; c++) z[c]! += params[base + c]! * x;
    }
    for (let k = 0; k < categoricalCount; k++) {
      const base = (data[at + numericCount + k]! | 0) * logits - 1;
      for (let c = 1; c <= logits; c++) z[c]! += params[base + c]!;
    }
  }
}
