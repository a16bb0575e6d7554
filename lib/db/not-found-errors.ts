/**
 * A row the caller named does not exist. Retrying cannot make it appear (ids come from
 * earlier steps of a run, which committed them), so each carries a permanent error `type`
 * (lib/policy/permanent-errors.ts) and activities fail at once instead of retrying.
 */

export class ModelVersionNotFoundError extends Error {
  readonly type = 'ModelVersionNotFound';
  constructor(readonly id: string) {
    super(`model version ${id} does not exist`);
    this.name = 'ModelVersionNotFoundError';
  }
}

export class DatasetNotFoundError extends Error {
  readonly type = 'DatasetNotFound';
  constructor(readonly id: string) {
    super(`dataset ${id} does not exist`);
    this.name = 'DatasetNotFoundError';
  }
}

export class ModelNotFoundError extends Error {
  readonly type = 'ModelNotFound';
  constructor(readonly model: string) {
    super(`unknown model '${model}'`);
    this.name = 'ModelNotFoundError';
  }
}

export class EvaluationNotFoundError extends Error {
  readonly type = 'EvaluationNotFound';
  constructor(readonly id: string) {
    super(`evaluation ${id} does not exist`);
    this.name = 'EvaluationNotFoundError';
  }
}
