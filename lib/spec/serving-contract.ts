import { z } from 'zod';

/**
 * The serving contract of one model version: what a client must send (each feature by name,
 * with its kind), what the version's ONNX model reads, how many classes it outputs and the
 * decision threshold its labels use. It is written when the version is registered
 * (lib/training/candidate-training.ts) and never changes; the gateway validates requests
 * against the serving champion's contract, never against the model's latest spec, so a run
 * started with a changed spec changes nothing clients see until a version it trained is
 * promoted. Stored as JSON in `model_versions.contract`, parsed with this schema at the edge.
 */

/** A feature as a client sends it: a number (or null) for numeric, a string (or null) for categorical. */
export const ContractFeature = z.object({
  name: z.string().min(1),
  kind: z.enum(['numeric', 'categorical']),
});
export type ContractFeature = z.infer<typeof ContractFeature>;

/** An ONNX input as the version's model declares it (lib/scoring/onnx-contract.ts). */
export const ContractInput = z.object({
  name: z.string().min(1),
  type: z.enum(['float32', 'float64', 'int64', 'string']),
});
export type ContractInput = z.infer<typeof ContractInput>;

export const ServingContract = z.object({
  /** Every feature a request carries (null for a missing value), in the spec's order. */
  features: z.array(ContractFeature).min(1),
  /** The model's inputs as registered; null for versions registered before contracts existed (the gateway reads them at load). */
  inputs: z.array(ContractInput).nullable(),
  /** K, the probabilities' columns, when the model declares it; null when it does not (or the contract was backfilled). */
  classes: z.number().int().min(2).nullable(),
  /** P(positive) at or above this is label 1 (lib/stats/decision-threshold.ts). */
  decisionThreshold: z.number().gt(0).lt(1),
  /** `registered`: read from the model when the version was registered; `backfilled`: by migration 2026-12-01-0201 from the model's spec. */
  origin: z.enum(['registered', 'backfilled']),
});
export type ServingContract = z.infer<typeof ServingContract>;

/** The client-facing part of a spec's features: name and kind (`sql` and `maxCategories` are the trainer's business). */
export function contractFeatures(features: readonly ContractFeature[]): ContractFeature[] {
  return features.map((f) => ({ name: f.name, kind: f.kind }));
}

/** Parses a stored contract, naming the version and every invalid field. */
export function parseServingContract(input: unknown, origin: string): ServingContract {
  const result = ServingContract.safeParse(input);
  if (!result.success) {
    throw new Error(`invalid serving contract of ${origin}: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}
