/**
 * Validation of request instances against a model's features (from the serving version's contract, `model_versions.contract`) and the
 * element types its versions' ONNX inputs declare: every feature present, no other key,
 * numbers for numeric features and strings for categorical ones (null: a missing value, which
 * the models impute). A number must fit the input it is fed to, so that the model scores the
 * value that was sent and the log holds it:
 *
 * - float32 input: finite and |x| ≤ 3.4028234663852886e38 (beyond, float32 holds Infinity and
 *   the model answers NaN);
 * - int64 input: a safe integer (|x| ≤ 2^53 - 1, whole; an int64 input has no missing value);
 * - float64 input, or a feature no version reads: finite (JSON's 1e400 parses to Infinity).
 *
 * When the versions of a route (champion, canary, shadow) read a feature with different types,
 * the strictest rule holds: every row is scored by each of them. Strings must be storable in
 * Postgres (storable-text.ts). Problems name the instance, the feature, the value and the rule;
 * each carries the path of the field at fault (`instances[3].distance`).
 *
 * Hand-written rather than a zod schema: it runs for every instance of every request.
 */
import type { OnnxInput } from '../lib/scoring/onnx-contract';
import type { FeatureSpec } from '../lib/spec/model-spec';
import type { FeatureRecord } from './model-session';
import { MAX_LISTED_PROBLEMS, refusal, type GatewayErrorCode, type RequestProblem } from './request-error';
import { quoted, unstorableCharacter } from './storable-text';

/** The largest finite float32 (FLT_MAX). */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** How the value of a numeric feature is bounded: by the input type it is fed as. */
export type NumericInputType = 'float64' | 'float32' | 'int64';

/** Where an instance is in the request: its name in messages and its path in fields. */
export interface InstanceLocation {
  /** "instance 3", or "instance" for the single instance of a request. */
  readonly label: string;
  /** "instances[3]", or "instance". */
  readonly path: string;
}

/** What is wrong with one value, without naming where it is ("must be a number or null, got string 'far'"). */
export interface ValueProblem {
  readonly code: GatewayErrorCode;
  readonly message: string;
}

export interface InstanceValidator {
  readonly features: readonly FeatureSpec[];
  /** The input type that bounds each numeric feature's values. */
  readonly numericTypes: ReadonlyMap<string, NumericInputType>;
  /** Parses instances; throws a 400 GatewayRequestError naming the problems (the first one's field). */
  parse(values: readonly unknown[], locate: (index: number) => InstanceLocation): FeatureRecord[];
  /** The problem with one value of a feature, or null when the value is accepted. */
  valueProblem(feature: FeatureSpec, value: unknown): ValueProblem | null;
}

/**
 * A validator for `features`; `modelInputs` are the ONNX inputs of every version the route
 * holds (a numeric feature gets the strictest rule of the inputs that read it).
 */
export function createInstanceValidator(features: readonly FeatureSpec[], modelInputs: ReadonlyArray<readonly OnnxInput[]> = []): InstanceValidator {
  const numericTypes = new Map<string, NumericInputType>();
  for (const feature of features) {
    if (feature.kind !== 'numeric') continue;
    const types = new Set(modelInputs.flatMap((inputs) => inputs.filter((i) => i.name === feature.name).map((i) => i.type)));
    numericTypes.set(feature.name, types.has('int64') ? 'int64' : types.has('float32') ? 'float32' : 'float64');
  }
  const featureNames = new Set(features.map((f) => f.name));
  const featureList = features.map((f) => f.name).join(', ');

  const valueProblem = (feature: FeatureSpec, value: unknown): ValueProblem | null =>
    feature.kind === 'numeric' ? numericProblem(value, numericTypes.get(feature.name) ?? 'float64') : categoricalProblem(value);

  return {
    features,
    numericTypes,
    valueProblem,
    parse(values, locate) {
      const parsed = new Array<FeatureRecord>(values.length);
      const problems: RequestProblem[] = [];
      const report = (problem: RequestProblem) => problems.push(problem);
      for (let i = 0; i < values.length && problems.length <= MAX_LISTED_PROBLEMS; i++) {
        const value = values[i];
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          const where = locate(i);
          report({ code: 'invalid_field', field: where.path, message: `${where.label}: must be an object of feature values, got ${jsonTypeName(value)}` });
          continue;
        }
        const record = value as Record<string, unknown>;
        let present = 0;
        let ok = true;
        for (const feature of features) {
          if (!Object.hasOwn(record, feature.name)) {
            const where = locate(i);
            const expected = feature.kind === 'numeric' ? 'a number' : 'a string';
            report({ code: 'missing_feature', field: `${where.path}.${feature.name}`, message: `${where.label}: missing feature '${feature.name}' (${feature.kind}: ${expected} or null)` });
            ok = false;
            continue;
          }
          present++;
          const problem = valueProblem(feature, record[feature.name]);
          if (problem) {
            const where = locate(i);
            report({ code: problem.code, field: `${where.path}.${feature.name}`, message: `${where.label}: feature '${feature.name}' ${problem.message}` });
            ok = false;
          }
        }
        const keys = Object.keys(record);
        if (keys.length > present) {
          const unknown = keys.filter((k) => !featureNames.has(k));
          const where = locate(i);
          report({
            code: 'unknown_feature',
            field: `${where.path}.${unknown[0]}`,
            message: `${where.label}: unknown feature${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => quoted(k)).join(', ')}; the model's features are: ${featureList}`,
          });
          ok = false;
        }
        if (ok) parsed[i] = record as FeatureRecord;
      }
      if (problems.length > 0) throw refusal(problems);
      return parsed;
    },
  };
}

function numericProblem(value: unknown, type: NumericInputType): ValueProblem | null {
  if (value === null) {
    return type === 'int64' ? { code: 'invalid_feature', message: "is null (missing), but the model's int64 input takes no missing value" } : null;
  }
  if (typeof value !== 'number') return { code: 'invalid_feature', message: `must be a number${type === 'int64' ? '' : ' or null'}, got ${describeValue(value)}` };
  if (type === 'int64') {
    if (Number.isSafeInteger(value)) return null;
    return { code: 'invalid_feature', message: `is ${shownNumber(value)}; the model's int64 input takes whole numbers with |x| ≤ ${Number.MAX_SAFE_INTEGER}` };
  }
  if (!Number.isFinite(value)) return { code: 'invalid_feature', message: `is beyond the float64 range (|x| ≤ ${Number.MAX_VALUE}); send a finite number or null` };
  if (type === 'float32' && Math.abs(value) > FLOAT32_MAX) {
    return { code: 'invalid_feature', message: `is ${value}, beyond the float32 range of the model's input (|x| ≤ ${FLOAT32_MAX})` };
  }
  return null;
}

function categoricalProblem(value: unknown): ValueProblem | null {
  if (value === null) return null;
  if (typeof value !== 'string') return { code: 'invalid_feature', message: `must be a string or null, got ${describeValue(value)}` };
  const unstorable = unstorableCharacter(value);
  if (unstorable) return { code: 'invalid_feature', message: `contains ${unstorable}, which ${unstorable.startsWith('U+0000') ? 'Postgres cannot store in text' : 'is not valid Unicode'}` };
  return null;
}

/** A number as shown in a message: JSON's 1e400 arrives as Infinity, which is past every bound. */
function shownNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : `beyond ±${Number.MAX_VALUE}`;
}

/** "string 'far'", "boolean true", "number 12", "array", "object". */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `string ${quoted(value)}`;
  if (typeof value === 'number') return `number ${shownNumber(value)}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  return jsonTypeName(value);
}

/** JSON type name of a value, as a client would call it. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
