import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Column types a source may declare; each maps to a family of DuckDB types (see lib/data/schema-validation). */
export const ColumnType = z.enum(['timestamp', 'date', 'integer', 'double', 'string', 'boolean']);
export type ColumnType = z.infer<typeof ColumnType>;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be snake_case: lowercase letters, digits and _');

export const ColumnSpec = z.object({
  name: identifier,
  type: ColumnType,
  /** Whether missing values are allowed; a null in a non-nullable column fails validation. */
  nullable: z.boolean().default(false),
  /** Inclusive numeric range; values outside it fail validation. */
  min: z.number().optional(),
  max: z.number().optional(),
});
export type ColumnSpec = z.infer<typeof ColumnSpec>;

export const FeatureSpec = z.discriminatedUnion('kind', [
  z.object({
    name: identifier,
    kind: z.literal('numeric'),
    /** DuckDB expression over source columns; defaults to the source column of the same name. */
    sql: z.string().optional(),
  }),
  z.object({
    name: identifier,
    kind: z.literal('categorical'),
    sql: z.string().optional(),
    /** Most frequent values kept as categories; the rest share one "other" bucket. */
    maxCategories: z.number().int().positive().default(200),
  }),
]);
export type FeatureSpec = z.infer<typeof FeatureSpec>;

export const SourceSpec = z.discriminatedUnion('kind', [
  /** A directory of partitions `<column>=<YYYY-MM-DD>/*.<format>`; relative paths resolve from the spec file. */
  z.object({ kind: z.literal('local'), path: z.string().min(1), format: z.enum(['parquet', 'csv', 'jsonl']).default('parquet') }),
  /** The same layout under an S3 prefix in the configured bucket (or `bucket`, when given). */
  z.object({
    kind: z.literal('s3'),
    bucket: z.string().optional(),
    prefix: z.string().min(1),
    format: z.enum(['parquet', 'csv', 'jsonl']).default('parquet'),
  }),
]);
export type SourceSpec = z.infer<typeof SourceSpec>;

export const BuiltinTrainerSpec = z.object({
  kind: z.literal('builtin'),
  algorithm: z.literal('logistic_regression').default('logistic_regression'),
  epochs: z.number().int().positive().default(8),
  batchSize: z.number().int().positive().default(256),
  learningRate: z.number().positive().default(0.05),
  /** L2 penalty on weights (not the bias). */
  l2: z.number().nonnegative().default(1e-5),
  seed: z.number().int().default(42),
});
export type BuiltinTrainerSpec = z.infer<typeof BuiltinTrainerSpec>;

export const GateSpec = z.object({
  /** The candidate's ROC AUC on the held-out partition must be at least this. */
  minAuc: z.number().min(0).max(1).default(0.6),
  /** The candidate may be at most this much worse than the champion in ROC AUC (0 = must not be worse). */
  maxAucRegression: z.number().min(0).max(1).default(0.01),
});
export type GateSpec = z.infer<typeof GateSpec>;

export const ModelSpec = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be kebab-case'),
  description: z.string().default(''),
  source: SourceSpec,
  partition: z.object({
    /** Timestamp or date column that assigns a row to its partition. */
    column: identifier,
    size: z.literal('1d').default('1d'),
  }),
  schema: z.object({ columns: z.array(ColumnSpec).min(1) }),
  features: z.array(FeatureSpec).min(1),
  label: z.object({
    name: identifier,
    /** Boolean DuckDB expression over source columns; true is the positive class. */
    sql: z.string().min(1),
  }),
  training: z.object({
    /** Trailing partitions before the run's day that form the training set. */
    windowPartitions: z.number().int().positive().default(7),
    trainer: BuiltinTrainerSpec.default(BuiltinTrainerSpec.parse({ kind: 'builtin' })),
  }),
  gates: GateSpec.default(GateSpec.parse({})),
}).superRefine((spec, ctx) => {
  const columns = new Set(spec.schema.columns.map((c) => c.name));
  if (!columns.has(spec.partition.column)) {
    ctx.addIssue({ code: 'custom', path: ['partition', 'column'], message: `partition column '${spec.partition.column}' is not in schema.columns` });
  }
  const names = new Set<string>();
  for (const feature of spec.features) {
    if (names.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features'], message: `duplicate feature '${feature.name}'` });
    names.add(feature.name);
    if (!feature.sql && !columns.has(feature.name)) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: `feature '${feature.name}' has no sql and no source column of that name` });
    }
  }
});
export type ModelSpec = z.infer<typeof ModelSpec>;

/** Parses a model spec, naming every invalid field in the error. */
export function parseModelSpec(input: unknown, origin = 'model spec'): ModelSpec {
  const result = ModelSpec.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ${origin}: ${problems}`);
  }
  return result.data;
}

/** Loads a JSON model spec file; a local source path is resolved relative to the file. */
export function loadModelSpec(file: string): ModelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read model spec ${file}: ${(err as Error).message}`, { cause: err });
  }
  const spec = parseModelSpec(raw, `model spec ${file}`);
  if (spec.source.kind === 'local' && !path.isAbsolute(spec.source.path)) {
    return { ...spec, source: { ...spec.source, path: path.resolve(path.dirname(file), spec.source.path) } };
  }
  return spec;
}
