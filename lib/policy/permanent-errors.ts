/**
 * Error types that retrying cannot fix: bad data (rows that fail the schema, files
 * that cannot be read), a tampered artifact, a trainer that failed or wrote an
 * unusable model, a row the run refers to that does not exist, an activity input
 * that does not parse or that Postgres rejects, a spec the run may not start with.
 * lib/ errors carry them in a `type`
 * field; activities raise them as non-retryable failures
 * (activities/permanent-failure.ts) and every retry profile
 * (workflows/activity-options.ts) lists them too.
 */
export const PERMANENT_ERROR_TYPES = [
  'SchemaValidation',
  'PartitionNotFound',
  'UnreadableSourceFile',
  'ArtifactChecksumMismatch',
  'ArtifactNotFound',
  'InvalidFeature',
  'ExternalTrainerFailed',
  'InvalidTrainerOutput',
  'TrainerTimeout',
  // lib/db/not-found-errors.ts: ids come from committed earlier steps; a missing row stays missing.
  'ModelVersionNotFound',
  'DatasetNotFound',
  'ModelNotFound',
  'EvaluationNotFound',
  // A zod parse failure inside an activity: the same input fails the same way on every attempt.
  'InvalidActivityInput',
  // Postgres refused the values themselves (SQLSTATE class 22, or a not-null, foreign-key or check violation).
  'DatabaseRejectedInput',
  // lib/promotion/run-admission.ts: a run's spec that would break the serving champion's clients (features added, removed or retyped).
  'BreakingSpecChange',
  // lib/promotion/run-admission.ts: a run's spec names approvers the model's approver policy does not configure.
  'ApproverNotConfigured',
  // lib/policy/champion-rollback.ts: a rollback after promotion that cannot be done as asked (nothing to restore, a version never champion, a canary running).
  'RollbackRefused',
  // lib/clients/label-studio-client.ts: Label Studio refused the request itself (a 4xx other than 408 and 429: a bad token, config or task).
  'LabelStudioRejected',
] as const;

export type PermanentErrorType = (typeof PERMANENT_ERROR_TYPES)[number];
