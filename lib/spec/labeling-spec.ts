import { z } from 'zod';

/**
 * The `labels` block of a model spec: where a model's labels come from when they need people.
 * Absent: the model has natural labels (the spec's `label.sql` on ingested data, and gateway
 * feedback joined by request id for the shadow and canary). `source: "label-studio"`: each run
 * sends a budget of rows of its newest training partition to a Label Studio project, waits for
 * the annotations (webhook and poll), checks agreement, and trains on the people's labels for
 * those rows (every other row keeps `label.sql`). Workflow-safe: zod only.
 */

/** One class of the model: its index in the model's probabilities (0..K-1) and the name annotators see. */
export const LabelClassSpec = z.strictObject({
  value: z.number().int().min(0),
  /** Shown in Label Studio and stored nowhere else: the stored label is `value`. */
  name: z.string().trim().min(1).max(100),
});
export type LabelClassSpec = z.infer<typeof LabelClassSpec>;

/**
 * What the wait does once `seconds` have passed since the batch was sent:
 * - `escalate`: record an escalation (log line, metric, the run's details) and keep waiting,
 *   escalating again every `seconds`;
 * - `proceed`: train with what is labeled when at least `minLabeledFraction` of the batch's items
 *   are labeled (resolved by the conflict rule); below it the run fails naming both fractions;
 * - `fail`: the run fails with a reason naming what was labeled.
 */
export const LabelingTimeoutSpec = z.strictObject({
  seconds: z.number().int().positive().default(7 * 24 * 3600),
  onTimeout: z.enum(['escalate', 'proceed', 'fail']).default('escalate'),
  minLabeledFraction: z.number().min(0).max(1).default(0.8),
});
export type LabelingTimeoutSpec = z.infer<typeof LabelingTimeoutSpec>;

export const LabelingSpec = z.strictObject({
  source: z.literal('label-studio'),
  /**
   * The model's classes, K of them, with the names annotators choose from; values 0..K-1 each once.
   * The Label Studio labeling config is generated from them (lib/labeling/labeling-config.ts).
   * Binary models: value 1 is the class `label.sql` calls true.
   */
  classes: z.array(LabelClassSpec).min(2),
  /** Rows sent to labeling per run (fewer when the partition has fewer). */
  budget: z.number().int().positive().max(10_000).default(200),
  /**
   * Share of the budget drawn uniformly at random (seeded) from the rows the uncertainty pick
   * left; the rest are the rows whose champion prediction is closest to the decision boundary.
   * The random share keeps an unbiased sample in the labeled set. 1: all random.
   */
  randomShare: z.number().min(0).max(1).default(0.2),
  /** Seed of the random share; the run's day is mixed in, so each day draws other rows. */
  seed: z.number().int().default(11),
  /** Distinct annotators each item needs before it counts as labeled. */
  annotatorsPerItem: z.number().int().min(1).max(20).default(1),
  /**
   * Items whose annotators disagree: `majority` takes the value more than half of them chose,
   * and an item without one (a tie) is reported and not trained on; `review` sends the item back
   * (marked in Label Studio) and waits for one more annotation until a strict majority exists.
   */
  conflict: z.enum(['majority', 'review']).default('majority'),
  /** How often the wait asks Label Studio for annotations, in case a webhook was missed (Label Studio posts each once). */
  pollSeconds: z.number().int().positive().default(300),
  /** How often a waiting batch reminds: a log line, a metric and the run's current details. */
  reminderSeconds: z.number().int().positive().default(24 * 3600),
  timeout: LabelingTimeoutSpec.default(LabelingTimeoutSpec.parse({})),
  /** Title of the model's Label Studio project (created when missing, reused otherwise); default `Retrain: <model>`. */
  project: z.string().trim().min(1).max(50).optional(),
});
export type LabelingSpec = z.infer<typeof LabelingSpec>;

/** Problems of a labels block beyond its shape: class values must be exactly 0..K-1, names unique, binary for now. */
export function labelingSpecProblems(spec: LabelingSpec): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const values = spec.classes.map((c) => c.value).sort((a, b) => a - b);
  if (values.some((v, i) => v !== i)) {
    problems.push({ path: ['classes'], message: `class values must be 0..${spec.classes.length - 1}, each once; got ${spec.classes.map((c) => c.value).join(', ')}` });
  }
  const names = new Set<string>();
  spec.classes.forEach((c, i) => {
    if (names.has(c.name)) problems.push({ path: ['classes', i, 'name'], message: `class name '${c.name}' is used twice` });
    names.add(c.name);
  });
  // Training and scoring are binary today (label.sql is a boolean); the labeling path itself is K-class.
  if (spec.classes.length !== 2) {
    problems.push({ path: ['classes'], message: `the model's trainers are binary today: give exactly 2 classes (0 and 1), got ${spec.classes.length}` });
  }
  return problems;
}

/** The Label Studio project title of a model. */
export function labelingProjectTitle(model: string, spec: Pick<LabelingSpec, 'project'>): string {
  return spec.project ?? `Retrain: ${model}`.slice(0, 50);
}
