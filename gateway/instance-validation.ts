/**
 * Validation of instances against a model's features (from the serving version's contract, `model_versions.contract`):
 * every feature present, no other key, numbers for numeric features and strings for
 * categorical ones (null: a missing value, which the models impute). Errors name the
 * instance, the feature and what was wrong.
 */
import { z } from 'zod';
import type { FeatureSpec } from '../lib/spec/model-spec';
import type { FeatureRecord } from './model-session';
import { GatewayRequestError } from './request-error';

/** Issues listed in one error message at most; the rest are counted. */
const MAX_LISTED_ISSUES = 5;

export interface InstanceValidator {
  readonly features: readonly FeatureSpec[];
  /**
   * Parses instances; throws a 400 GatewayRequestError listing the problems.
   * `label(i)` names instance i in messages (e.g. "instance 3").
   */
  parse(values: readonly unknown[], label: (index: number) => string): FeatureRecord[];
}

export function createInstanceValidator(features: readonly FeatureSpec[]): InstanceValidator {
  const shape: Record<string, z.ZodType> = {};
  for (const feature of features) shape[feature.name] = feature.kind === 'numeric' ? z.number().nullable() : z.string().nullable();
  const schema = z.strictObject(shape);
  const featureList = features.map((f) => f.name).join(', ');

  return {
    features,
    parse(values, label) {
      const parsed = new Array<FeatureRecord>(values.length);
      const problems: string[] = [];
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        const result = schema.safeParse(value);
        if (result.success) {
          parsed[i] = result.data as FeatureRecord;
          continue;
        }
        for (const issue of result.error.issues) problems.push(`${label(i)}: ${describeIssue(issue, value, features, featureList)}`);
        if (problems.length > MAX_LISTED_ISSUES) break;
      }
      if (problems.length > 0) throw new GatewayRequestError(400, joinProblems(problems));
      return parsed;
    },
  };
}

/** "a; b; c (and 4 more problems)". */
export function joinProblems(problems: readonly string[]): string {
  const listed = problems.slice(0, MAX_LISTED_ISSUES).join('; ');
  const more = problems.length - MAX_LISTED_ISSUES;
  return more > 0 ? `${listed} (and more problems)` : listed;
}

/** JSON type name of a value, as a client would call it. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function describeIssue(issue: z.core.$ZodIssue, instance: unknown, features: readonly FeatureSpec[], featureList: string): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `unknown feature${issue.keys.length > 1 ? 's' : ''} ${keys}; the model's features are: ${featureList}`;
  }
  const name = issue.path[0];
  if (issue.path.length === 0) return `must be an object of feature values, got ${jsonTypeName(instance)}`;
  const feature = features.find((f) => f.name === name);
  if (issue.code === 'invalid_type' && feature) {
    const value = (instance as Record<string, unknown>)[feature.name];
    const expected = feature.kind === 'numeric' ? 'a number' : 'a string';
    if (value === undefined) return `missing feature '${feature.name}' (${feature.kind}: ${expected} or null)`;
    return `feature '${feature.name}' must be ${expected}, got ${jsonTypeName(value)}`;
  }
  return `feature '${String(name)}': ${issue.message}`;
}
