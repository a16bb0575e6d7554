import { DECISION_THRESHOLD } from '../stats/decision-threshold';
import { contractFeatures, type ContractFeature, type ServingContract } from '../spec/serving-contract';
import { openOnnxModel, requireBinary, type OnnxInput } from './onnx-contract';

/**
 * Why a model with these inputs cannot serve requests carrying `features`, or null when it can:
 * every input must be a feature of the same kind (a string input for a categorical feature, a
 * numeric one for a numeric feature); features the model does not read are not fed. `who`
 * names the model in the message, e.g. "v3".
 */
export function inputsIncompatibility(inputs: readonly OnnxInput[], features: readonly ContractFeature[], who: string): string | null {
  for (const input of inputs) {
    const feature = features.find((f) => f.name === input.name);
    if (!feature) {
      return `${who} reads input '${input.name}', which is not a feature of the serving contract (features: ${features.map((f) => f.name).join(', ')})`;
    }
    const wanted = feature.kind === 'categorical' ? 'string' : 'numeric';
    const actual = input.type === 'string' ? 'string' : 'numeric';
    if (wanted !== actual) return `${who} reads '${input.name}' as ${input.type}, but the serving contract declares it ${feature.kind}`;
  }
  return null;
}

/**
 * The serving contract of a model about to be registered: the spec's features (name and kind),
 * the ONNX inputs and classes read from the model itself, and the decision threshold. Throws
 * naming the problem when the model is not a binary classifier or reads an input the features
 * cannot feed: such a version could never be served.
 */
export async function readServingContract(onnxBytes: Uint8Array, features: readonly ContractFeature[]): Promise<ServingContract> {
  const { session, contract } = await openOnnxModel(onnxBytes);
  try {
    requireBinary(contract);
    const problem = inputsIncompatibility(contract.inputs, features, 'the model');
    if (problem) throw new Error(problem);
    return {
      features: contractFeatures(features),
      inputs: contract.inputs.map((i) => ({ name: i.name, type: i.type })),
      classes: contract.classes,
      decisionThreshold: DECISION_THRESHOLD,
      origin: 'registered',
    };
  } finally {
    await session.release();
  }
}
