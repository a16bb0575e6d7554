/** The built-in algorithms by name, and the shape of a model's parameters. */
import type { BuiltinAlgorithmDefinition, ModelShape } from './builtin-algorithm';
import type { BuiltinAlgorithm, BuiltinModel } from './builtin-model';
import { inputLayout } from './encoded-rows';
import { logisticRegression } from './logistic-regression';
import { mlp } from './mlp';

const ALGORITHMS: { readonly [A in BuiltinAlgorithm]: BuiltinAlgorithmDefinition<Extract<BuiltinModel, { algorithm: A }>> } = {
  logistic_regression: logisticRegression,
  mlp,
};

export function builtinAlgorithm(name: string): BuiltinAlgorithmDefinition {
  const definition = Object.hasOwn(ALGORITHMS, name) ? ALGORITHMS[name as BuiltinAlgorithm] : undefined;
  if (!definition) throw new Error(`unknown built-in algorithm '${name}'; known: ${Object.keys(ALGORITHMS).join(', ')}`);
  return definition;
}

/** The shape of `model`'s parameters, after checking that its preprocessing matches its feature list. */
export function modelShape(model: BuiltinModel): ModelShape {
  const expectNames = (kind: 'numeric' | 'categorical', actual: readonly { name: string }[]) => {
    const expected = model.features.filter((f) => f.kind === kind).map((f) => f.name);
    const got = actual.map((f) => f.name);
    if (expected.join('\u0000') !== got.join('\u0000')) {
      throw new Error(`model preprocessing has ${kind} features [${got.join(', ')}] but the model's ${kind} features are [${expected.join(', ')}]`);
    }
  };
  expectNames('numeric', model.preprocessing.numeric);
  expectNames('categorical', model.preprocessing.categorical);
  return {
    classes: model.classes,
    hiddenUnits: model.algorithm === 'mlp' ? model.hiddenUnits : 0,
    layout: inputLayout(model.preprocessing),
  };
}
