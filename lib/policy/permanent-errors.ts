/**
 * Error types that retrying cannot fix: bad data (rows that fail the schema, files
 * that cannot be read), a tampered artifact, a trainer that failed or wrote an
 * unusable model. lib/ errors carry them in a `type` field; activities raise them
 * as non-retryable failures and the workflow's retry policies list them too.
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
] as const;
