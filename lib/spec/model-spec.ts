import { z } from 'zod';
import { MonitoringSpec, monitoringProblems } from './monitoring-spec';
import { LabelingSpec, labelingSpecProblems } from './labeling-spec';
import { specIssueMessages, unknownFieldPaths } from './spec-issue-messages';

/** Column types a source may declare; each maps to a family of DuckDB types (see lib/ingestion/schema-validation). */
export const ColumnType = z.enum(['timestamp', 'date', 'integer', 'double', 'string', 'boolean']);
export type ColumnType = z.infer<typeof ColumnType>;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be snake_case: lowercase letters, digits and _');

export const ColumnSpec = z.strictObject({
  name: identifier,
  type: ColumnType,
  /** Whether missing values are allowed; a null in a non-nullable column fails validation. */
  nullable: z.boolean().default(false),
  /** Inclusive numeric range; values outside it fail validation. */
  min: z.number().optional(),
  max: z.number().optional(),
  /**
   * Double columns only: accept NaN, Infinity and -Infinity (they are exempt from min/max).
   * Absent or false: a non-finite value is refused, naming the file and the count, because
   * it would otherwise reach training and fail it there, or silently poison a mean.
   */
  allowNonFinite: z.boolean().optional(),
});
export type ColumnSpec = z.infer<typeof ColumnSpec>;

/**
 * What ingestion does with duplicate rows: rows equal to another row of the same partition
 * in every declared column (after the cast to their snapshot types). 'keep' (the default)
 * counts them and keeps them: without a key column, identical rows can be distinct events
 * (flights-3m has a few a day); 'drop' keeps one of each; 'refuse' fails the partition.
 */
export const DuplicateRule = z.enum(['keep', 'drop', 'refuse']);
export type DuplicateRule = z.infer<typeof DuplicateRule>;
export const DEFAULT_DUPLICATE_RULE: DuplicateRule = 'keep';

/** The duplicate rule of a schema; a spec recorded before the rule existed (a run's input is not parsed again) gets the default. */
export function duplicateRuleOf(schema: { readonly duplicates?: DuplicateRule }): DuplicateRule {
  return schema.duplicates ?? DEFAULT_DUPLICATE_RULE;
}

export const FeatureSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    name: identifier,
    kind: z.literal('numeric'),
    /** DuckDB expression over source columns; defaults to the source column of the same name. */
    sql: z.string().optional(),
  }),
  z.strictObject({
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
  z.strictObject({ kind: z.literal('local'), path: z.string().min(1), format: z.enum(['parquet', 'csv', 'jsonl']).default('parquet') }),
  /** The same layout under an S3 prefix in the configured bucket (or `bucket`, when given). */
  z.strictObject({
    kind: z.literal('s3'),
    bucket: z.string().optional(),
    prefix: z.string().min(1),
    format: z.enum(['parquet', 'csv', 'jsonl']).default('parquet'),
  }),
]);
export type SourceSpec = z.infer<typeof SourceSpec>;

export const BuiltinTrainerSpec = z.strictObject({
  kind: z.literal('builtin'),
  /** Multinomial (softmax) logistic regression, or a one-hidden-layer perceptron. */
  algorithm: z.enum(['logistic_regression', 'mlp']).default('logistic_regression'),
  /** Epochs of a from-scratch run. */
  epochs: z.number().int().positive().default(8),
  /** Epochs of a fine-tuning run (warm start from the champion's weights). */
  fineTuneEpochs: z.number().int().positive().default(3),
  batchSize: z.number().int().positive().default(256),
  /** Peak Adam learning rate of a from-scratch run, cosine-decayed to 0 over the run. */
  learningRate: z.number().positive().default(0.05),
  /** Peak learning rate of a fine-tuning run: smaller, so the run refines the champion instead of starting over. */
  fineTuneLearningRate: z.number().positive().default(0.005),
  /** L2 penalty on weights (not biases). */
  l2: z.number().nonnegative().default(1e-5),
  /** Hidden units of the MLP (ignored by logistic regression). */
  hiddenUnits: z.number().int().positive().max(1024).default(32),
  seed: z.number().int().default(42),
});
export type BuiltinTrainerSpec = z.infer<typeof BuiltinTrainerSpec>;

/**
 * A user's own training program (e.g. a Python script). It is run with a JSON
 * contract file (see docs/external-trainer.md) and must write an ONNX model
 * with the same input/output contract as the built-in trainers, and a metrics JSON.
 */
export const ExternalTrainerSpec = z.strictObject({
  kind: z.literal('external'),
  /** argv of the program; relative paths resolve from the spec file's directory. */
  command: z.array(z.string().min(1)).min(1),
  /** Extra environment variables for the program. */
  env: z.record(z.string(), z.string()).default({}),
  /** Passed through to the program untouched. */
  hyperparameters: z.record(z.string(), z.unknown()).default({}),
  /** Whether the program can fine-tune from a warm-start ONNX model; if not, every run is from scratch. */
  supportsWarmStart: z.boolean().default(false),
  /** The run fails (and the process group is killed) after this long. */
  timeoutSeconds: z.number().int().positive().default(3600),
});
export type ExternalTrainerSpec = z.infer<typeof ExternalTrainerSpec>;

export const TrainerSpec = z.discriminatedUnion('kind', [BuiltinTrainerSpec, ExternalTrainerSpec]);
export type TrainerSpec = z.infer<typeof TrainerSpec>;

/** When a run retrains from scratch instead of fine-tuning the champion (any rule that fires wins). */
export const TrainingPolicySpec = z.strictObject({
  /** Fine-tune at all; false: every run is from scratch. */
  fineTune: z.boolean().default(true),
  /** Every Nth training run of the model is from scratch (N = 1: always). */
  scratchEveryNthRun: z.number().int().positive().default(5),
  /** Retrain from scratch when the last from-scratch model's data is older than this many days. */
  maxDaysSinceScratch: z.number().int().positive().default(30),
  /** Retrain from scratch when any feature's drift score (PSI) between the champion's training data and the new window exceeds this. */
  maxFeatureDrift: z.number().positive().default(0.25),
});
export type TrainingPolicySpec = z.infer<typeof TrainingPolicySpec>;

export const MetricName = z.enum(['auc', 'prAuc', 'accuracy', 'f1', 'logLoss', 'brier', 'ece']);
export type MetricName = z.infer<typeof MetricName>;

export const SliceSpec = z.strictObject({
  /** Slice family name shown in reports, e.g. "origin". */
  name: identifier,
  /** DuckDB expression over source columns whose value names the slice; defaults to the column `name`. */
  sql: z.string().optional(),
  /** Only the most frequent values on the holdout become slices. */
  top: z.number().int().positive().max(50).default(5),
});
export type SliceSpec = z.infer<typeof SliceSpec>;

export const EvaluationSpec = z.strictObject({
  slices: z.array(SliceSpec).default([]),
  /** Paired bootstrap over holdout rows for the confidence intervals of metric differences. */
  bootstrapSamples: z.number().int().min(50).max(10_000).default(300),
  confidence: z.number().gt(0.5).lt(1).default(0.95),
  seed: z.number().int().default(7),
});
export type EvaluationSpec = z.infer<typeof EvaluationSpec>;

export const GateSpec = z.strictObject({
  /** Absolute floor (or, for logLoss, brier and ece, ceiling) per metric on the held-out day. */
  minimums: z.partialRecord(MetricName, z.number()).default({ auc: 0.6 }),
  /**
   * Allowed regression vs the champion per metric: the gate passes only when the
   * confidence interval of (candidate - champion) excludes a loss larger than this.
   */
  maxRegression: z.partialRecord(MetricName, z.number().nonnegative()).default({ auc: 0.01 }),
  /** Allowed regression per slice (same rule), for slices with at least `sliceMinRows` holdout rows. */
  sliceMaxRegression: z.partialRecord(MetricName, z.number().nonnegative()).default({}),
  sliceMinRows: z.number().int().positive().default(200),
});
export type GateSpec = z.infer<typeof GateSpec>;

/**
 * Defaults of the shadow's probability and score gates, chosen on the flight-delay traffic of
 * test/integration/live-promotion.test.ts (numbers in docs/architecture.md, "Live promotion"): the
 * fine-tuned retrain of the next day passes them with room, a model trained on shuffled labels
 * fails log loss, AUC and KS even where its accuracy at the threshold ties with the champion's.
 * Retrains of later days moved further from the champion (mean |difference| of scores 0.08, KS 0.2)
 * and their intervals at 300-500 labels are too wide to show AUC within 0.05: a longer shadow
 * (more labels) or a wider allowance is the choice to make there, not a default that passes anything.
 */
export const SHADOW_GATE_DEFAULTS = Object.freeze({
  minProbabilityLabels: 300,
  maxLogLossIncrease: 0.02,
  maxBrierIncrease: 0.01,
  maxAucDrop: 0.05,
  maxScoreKs: 0.3,
  maxMeanAbsScoreDifference: 0.15,
});
export const SHADOW_BOOTSTRAP_DEFAULTS = Object.freeze({ samples: 1000, confidence: 0.95, seed: 7 });
/**
 * Defaults of the canary's probability gates: looser than the shadow's, because canary and champion
 * answer different requests and a difference of two requests' losses varies much more than one
 * request's two losses (the shadow has already compared the models on the same requests).
 */
export const CANARY_LOSS_DEFAULTS = Object.freeze({
  maxLogLossIncrease: 0.05,
  maxBrierIncrease: 0.02,
  lossTest: Object.freeze({ alpha: 0.05, minPairs: 200, tunedForPairs: 2000 }),
});

export const ShadowSpec = z.strictObject({
  /** The shadow phase ends once this many requests were mirrored to the candidate... */
  minRequests: z.number().int().positive().default(200),
  /** ...or after this long, whichever comes first (too few requests then fail the phase). */
  maxDurationSeconds: z.number().int().positive().default(3600),
  /** How often the workflow looks at the prediction log while waiting. */
  pollSeconds: z.number().int().positive().default(10),
  /** Share of mirrored requests where candidate and champion predict the same label. */
  minAgreement: z.number().min(0).max(1).default(0.8),
  /** Candidate p99 latency may be at most this multiple of the champion's (p99, or the highest tail quantile the sample supports: see supportedTailQuantile). */
  maxLatencyP99Ratio: z.number().positive().default(2),
  /** On requests whose label arrived: candidate accuracy may be at most this much below the champion's. */
  maxAccuracyDrop: z.number().min(0).max(1).default(0.05),
  /** Labels needed before the accuracy rule applies (fewer: reported, not gated). */
  minLabels: z.number().int().positive().default(50),
  /**
   * Labelled requests both models scored before the probability gates below apply (fewer: reported,
   * not gated). A difference of AUCs needs more labels than one of accuracies: on flight delays the 95%
   * interval is about ±0.06 wide at 300-500 labels for a retrain that moved away from the champion.
   */
  minProbabilityLabels: z.number().int().positive().default(SHADOW_GATE_DEFAULTS.minProbabilityLabels).optional(),
  /**
   * Probability gates on the labelled mirrored requests, judged on the paired bootstrap interval of
   * candidate − champion (non-inferiority, as the offline maxRegression): log loss and Brier score may
   * rise, ROC AUC drop, by at most this much at the worse end of the interval. They tell models apart
   * where accuracy at the decision threshold cannot (both predicting one label almost always).
   * `.default().optional()`: a parsed spec records the default; a spec recorded before these
   * existed omits them and gets the same defaults (resolvedShadowGates).
   */
  maxLogLossIncrease: z.number().nonnegative().default(SHADOW_GATE_DEFAULTS.maxLogLossIncrease).optional(),
  maxBrierIncrease: z.number().nonnegative().default(SHADOW_GATE_DEFAULTS.maxBrierIncrease).optional(),
  maxAucDrop: z.number().min(0).max(1).default(SHADOW_GATE_DEFAULTS.maxAucDrop).optional(),
  /** Two-sample Kolmogorov–Smirnov statistic between both models' probabilities on the same mirrored requests (1 allows any). */
  maxScoreKs: z.number().min(0).max(1).default(SHADOW_GATE_DEFAULTS.maxScoreKs).optional(),
  /** Mean of |p_candidate − p_champion| over the mirrored requests. */
  maxMeanAbsScoreDifference: z.number().min(0).max(1).default(SHADOW_GATE_DEFAULTS.maxMeanAbsScoreDifference).optional(),
  /** The 99th percentile of |p_candidate − p_champion|; not gated unless given (reported always). */
  maxP99AbsScoreDifference: z.number().min(0).max(1).optional(),
  /** The paired bootstrap behind the probability gates: replicates, interval coverage, seed (same requests, same seed: same interval). */
  bootstrap: z
    .strictObject({
      samples: z.number().int().min(50).max(10_000).default(SHADOW_BOOTSTRAP_DEFAULTS.samples),
      confidence: z.number().gt(0.5).lt(1).default(SHADOW_BOOTSTRAP_DEFAULTS.confidence),
      seed: z.number().int().default(SHADOW_BOOTSTRAP_DEFAULTS.seed),
    })
    .default(SHADOW_BOOTSTRAP_DEFAULTS)
    .optional(),
});
export type ShadowSpec = z.infer<typeof ShadowSpec>;

/** The shadow's probability and score gates, each the spec's value or its default; maxP99AbsScoreDifference null: not gated. */
export interface ShadowGates {
  minProbabilityLabels: number;
  maxLogLossIncrease: number;
  maxBrierIncrease: number;
  maxAucDrop: number;
  maxScoreKs: number;
  maxMeanAbsScoreDifference: number;
  maxP99AbsScoreDifference: number | null;
}

/**
 * The gates of a shadow spec; one recorded before they existed (a workflow input is not parsed
 * again) gets the defaults. So a released default must not change: a recorded input that omits
 * the field is judged again, on replay, with the default of the code that replays it.
 */
export function resolvedShadowGates(spec: ShadowSpec): ShadowGates {
  return {
    minProbabilityLabels: spec.minProbabilityLabels ?? SHADOW_GATE_DEFAULTS.minProbabilityLabels,
    maxLogLossIncrease: spec.maxLogLossIncrease ?? SHADOW_GATE_DEFAULTS.maxLogLossIncrease,
    maxBrierIncrease: spec.maxBrierIncrease ?? SHADOW_GATE_DEFAULTS.maxBrierIncrease,
    maxAucDrop: spec.maxAucDrop ?? SHADOW_GATE_DEFAULTS.maxAucDrop,
    maxScoreKs: spec.maxScoreKs ?? SHADOW_GATE_DEFAULTS.maxScoreKs,
    maxMeanAbsScoreDifference: spec.maxMeanAbsScoreDifference ?? SHADOW_GATE_DEFAULTS.maxMeanAbsScoreDifference,
    maxP99AbsScoreDifference: spec.maxP99AbsScoreDifference ?? null,
  };
}

/** The shadow's bootstrap settings, or the defaults for a spec recorded before they existed. */
export function resolvedShadowBootstrap(spec: Pick<ShadowSpec, 'bootstrap'>): { samples: number; confidence: number; seed: number } {
  return { ...SHADOW_BOOTSTRAP_DEFAULTS, ...spec.bootstrap };
}

export const ApprovalSpec = z.strictObject({
  /**
   * Narrows who may approve or reject this model's runs to these names. The list itself comes
   * from the model's approver policy, which an operator configures (`retrain approvers set`),
   * never from the spec of whoever starts a run: a name here that is not configured is refused at
   * the run's start. Empty (the default): everyone the policy configures.
   */
  approvers: z.array(z.string().trim().min(1)).default([]),
  timeoutSeconds: z.number().int().positive().default(24 * 3600),
  /** What a timeout does: reject the candidate, or escalate (record it, mark the run) and keep waiting. */
  onTimeout: z.enum(['reject', 'escalate']).default('escalate'),
});
export type ApprovalSpec = z.infer<typeof ApprovalSpec>;

export const CanarySpec = z.strictObject({
  /** Traffic percentages of the stages; the last must be 100 (the candidate becomes champion). */
  stages: z.array(z.number().gt(0).max(100)).min(1).default([1, 5, 25, 50, 100]),
  /** Minimum time each stage runs before it is analysed. */
  bakeSeconds: z.number().int().positive().default(300),
  /** A stage that still cannot decide after this long fails (too little data is never a pass). */
  maxBakeSeconds: z.number().int().positive().default(3600),
  /** Requests the canary must serve in a stage before errors and latency are judged. */
  minRequests: z.number().int().positive().default(50),
  /** Canary error rate may exceed the champion's by at most this. */
  maxErrorRateIncrease: z.number().min(0).max(1).default(0.01),
  /** Canary p99 latency may be at most this multiple of the champion's over the same period (or the highest tail quantile both samples support). */
  maxLatencyP99Ratio: z.number().positive().default(1.5),
  /**
   * Sequential test on labelled feedback, paired against the champion's labels of the same period
   * (lib/stats/paired-accuracy-test.ts): alpha is the chance of rolling back a canary as accurate
   * as the champion, beta of passing one that is less accurate by minEffect.
   */
  sprt: z
    .strictObject({ alpha: z.number().gt(0).lt(0.5).default(0.05), beta: z.number().gt(0).lt(0.5).default(0.1), minEffect: z.number().gt(0).lt(1).default(0.05) })
    .default({ alpha: 0.05, beta: 0.1, minEffect: 0.05 }),
  /**
   * Probability gates on the same paired labels (lib/stats/paired-loss-test.ts), judged on a confidence
   * sequence for canary − champion of the mean per-request log loss and Brier score: a stage fails once
   * the whole interval is above the allowance (worse by more than allowed), and passes only once the
   * whole interval is at or below it. Defaults as for the shadow's gates (resolvedCanaryLossGates).
   */
  maxLogLossIncrease: z.number().nonnegative().default(CANARY_LOSS_DEFAULTS.maxLogLossIncrease).optional(),
  maxBrierIncrease: z.number().nonnegative().default(CANARY_LOSS_DEFAULTS.maxBrierIncrease).optional(),
  /**
   * The confidence sequence: alpha is the chance that any of its intervals misses the true difference
   * (so at most alpha/2 of rolling back a canary as good as the champion, however often it is looked at);
   * no decision before minPairs pairs (the variance must be estimated first); narrowest at tunedForPairs.
   */
  lossTest: z
    .strictObject({
      alpha: z.number().gt(0).lt(0.5).default(CANARY_LOSS_DEFAULTS.lossTest.alpha),
      minPairs: z.number().int().min(2).default(CANARY_LOSS_DEFAULTS.lossTest.minPairs),
      tunedForPairs: z.number().int().positive().default(CANARY_LOSS_DEFAULTS.lossTest.tunedForPairs),
    })
    .default(CANARY_LOSS_DEFAULTS.lossTest)
    .optional(),
  pollSeconds: z.number().int().positive().default(10),
});
export type CanarySpec = z.infer<typeof CanarySpec>;

/** The canary's probability gates and their test, each the spec's value or its default (specs recorded before they existed; as for resolvedShadowGates, a released default must not change). */
export function resolvedCanaryLossGates(spec: Pick<CanarySpec, 'maxLogLossIncrease' | 'maxBrierIncrease' | 'lossTest'>): {
  maxLogLossIncrease: number;
  maxBrierIncrease: number;
  lossTest: { alpha: number; minPairs: number; tunedForPairs: number };
} {
  return {
    maxLogLossIncrease: spec.maxLogLossIncrease ?? CANARY_LOSS_DEFAULTS.maxLogLossIncrease,
    maxBrierIncrease: spec.maxBrierIncrease ?? CANARY_LOSS_DEFAULTS.maxBrierIncrease,
    lossTest: { ...CANARY_LOSS_DEFAULTS.lossTest, ...spec.lossTest },
  };
}

export const PromotionSpec = z.strictObject({
  /**
   * 'safe': a candidate that passed the offline gates goes shadow, then waits for approval,
   * then takes traffic as a canary before it becomes champion. 'direct': the offline gates
   * alone decide. A model's first champion is always promoted directly: there is no live
   * champion to compare against.
   */
  strategy: z.enum(['safe', 'direct']).default('safe'),
  shadow: ShadowSpec.default(ShadowSpec.parse({})),
  approval: ApprovalSpec.default(ApprovalSpec.parse({})),
  canary: CanarySpec.default(CanarySpec.parse({})),
});
export type PromotionSpec = z.infer<typeof PromotionSpec>;

export const ModelSpec = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be kebab-case'),
  description: z.string().default(''),
  source: SourceSpec,
  partition: z.strictObject({
    /** Timestamp or date column that assigns a row to its partition. */
    column: identifier,
    size: z.literal('1d').default('1d'),
  }),
  schema: z.strictObject({ columns: z.array(ColumnSpec).min(1), duplicates: DuplicateRule.default(DEFAULT_DUPLICATE_RULE) }),
  features: z.array(FeatureSpec).min(1),
  label: z.strictObject({
    name: identifier,
    /** Boolean DuckDB expression over source columns; true is the positive class. */
    sql: z.string().min(1),
  }),
  training: z.strictObject({
    /** Trailing partitions before the run's day that form the training set. */
    windowPartitions: z.number().int().positive().default(7),
    trainer: TrainerSpec.default(BuiltinTrainerSpec.parse({ kind: 'builtin' })),
    policy: TrainingPolicySpec.default(TrainingPolicySpec.parse({})),
    /** A training attempt that stops heartbeating this long is retried (resuming from its last checkpoint). */
    heartbeatTimeoutSeconds: z.number().int().positive().default(60),
  }),
  evaluation: EvaluationSpec.default(EvaluationSpec.parse({})),
  gates: GateSpec.default(GateSpec.parse({})),
  promotion: PromotionSpec.default(PromotionSpec.parse({})),
  /** Drift monitoring (lib/spec/monitoring-spec.ts); absent: the model is not monitored. */
  monitoring: MonitoringSpec.optional(),
  /**
   * Labels from people (lib/spec/labeling-spec.ts); absent: natural labels only (`label.sql`, and
   * gateway feedback by request id). Optional without a default: recorded inputs have none, and
   * a run with none takes exactly the path it took before labeling existed.
   */
  labels: LabelingSpec.optional(),
}).superRefine((spec, ctx) => {
  for (const problem of spec.labels ? labelingSpecProblems(spec.labels) : []) {
    ctx.addIssue({ code: 'custom', path: ['labels', ...problem.path], message: problem.message });
  }
  if (spec.labels && spec.training.trainer.kind === 'external') {
    ctx.addIssue({ code: 'custom', path: ['labels'], message: 'labels from people are trained on by the built-in trainers only (external trainers read label.sql): use a builtin trainer or remove labels' });
  }
  const columns = new Set(spec.schema.columns.map((c) => c.name));
  const partitionColumn = spec.schema.columns.find((c) => c.name === spec.partition.column);
  if (!partitionColumn) {
    ctx.addIssue({ code: 'custom', path: ['partition', 'column'], message: `partition column '${spec.partition.column}' is not in schema.columns` });
  } else if (partitionColumn.type !== 'timestamp' && partitionColumn.type !== 'date') {
    ctx.addIssue({
      code: 'custom',
      path: ['partition', 'column'],
      message: `partition column '${spec.partition.column}' is declared ${partitionColumn.type}: it must be a timestamp or date column (its UTC day places each row)`,
    });
  }
  spec.schema.columns.forEach((column, i) => {
    if (column.allowNonFinite && column.type !== 'double') {
      ctx.addIssue({ code: 'custom', path: ['schema', 'columns', i, 'allowNonFinite'], message: `only double columns can hold NaN or Infinity; column '${column.name}' is ${column.type}` });
    }
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      ctx.addIssue({ code: 'custom', path: ['schema', 'columns', i], message: `min ${column.min} is above max ${column.max}` });
    }
  });
  const stages = spec.promotion.canary.stages;
  if (stages.at(-1) !== 100 || stages.some((p, i) => i > 0 && p <= stages[i - 1]!)) {
    ctx.addIssue({ code: 'custom', path: ['promotion', 'canary', 'stages'], message: 'stages must increase and end at 100' });
  }
  if (spec.monitoring) for (const problem of monitoringProblems(spec.monitoring, spec.features)) ctx.addIssue({ code: 'custom', ...problem });
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

/**
 * Parses a model spec someone wrote (a spec file, a CLI argument): strictly, so an
 * unknown or misspelt field anywhere is refused with its path and, when one is close,
 * the field it probably meant; every problem is named in one error.
 * @example parseModelSpec({ ...spec, gates: { minimum: { auc: 0.7 } } })
 * // throws "invalid model spec: gates.minimum: unknown field; did you mean 'minimums'?"
 */
export function parseModelSpec(input: unknown, origin = 'model spec'): ModelSpec {
  const result = ModelSpec.safeParse(input);
  if (!result.success) throw new Error(`invalid ${origin}: ${specIssueMessages(ModelSpec, input, result.error.issues).join('; ')}`);
  return result.data;
}

/**
 * Parses a spec that was accepted earlier and recorded (models.spec in Postgres): fields
 * this version no longer knows (e.g. `gates.minAuc` of the first releases) are dropped
 * instead of refused, since refusing them would make a recorded model unreadable; every
 * other rule applies as in parseModelSpec. Never use it for a spec a person just wrote.
 */
export function parseRecordedModelSpec(input: unknown, origin = 'recorded model spec'): ModelSpec {
  const first = ModelSpec.safeParse(input);
  if (first.success) return first.data;
  const unknown = unknownFieldPaths(first.error.issues);
  const retried = unknown.length > 0 ? ModelSpec.safeParse(withoutFields(input, unknown)) : first;
  if (!retried.success) throw new Error(`invalid ${origin}: ${specIssueMessages(ModelSpec, input, retried.error.issues).join('; ')}`);
  return retried.data;
}

/** A deep copy of `input` (recorded JSON) without the fields at `paths`. */
function withoutFields(input: unknown, paths: readonly (readonly PropertyKey[])[]): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(input));
  for (const path of paths) {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    if (typeof node === 'object' && node !== null) delete (node as Record<PropertyKey, unknown>)[path[path.length - 1]!];
  }
  return copy;
}
