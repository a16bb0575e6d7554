/**
 * Failures of an external trainer run. Each carries a `type` that activities turn into
 * a Temporal ApplicationFailure type (see activities/permanent-failure): a failing or
 * misbehaving program is a permanent fault of that program, not of the worker.
 */

/** The program exited with a non-zero code or was killed by a signal it was not sent by Retrain. */
export class ExternalTrainerFailedError extends Error {
  readonly type = 'ExternalTrainerFailed';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'ExternalTrainerFailedError';
  }
}

/** The program exited with 0 but its model.onnx or metrics.json breaks the contract. */
export class InvalidTrainerOutputError extends Error {
  readonly type = 'InvalidTrainerOutput';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidTrainerOutputError';
  }
}

/** The run was cancelled (the abort signal fired); its whole process group has been killed. */
export class TrainerCancelledError extends Error {
  readonly type = 'TrainerCancelled';
  constructor(message: string) {
    super(message);
    this.name = 'TrainerCancelledError';
  }
}

/** The run exceeded the spec's timeoutSeconds; its whole process group has been killed. */
export class TrainerTimeoutError extends Error {
  readonly type = 'TrainerTimeout';
  constructor(
    message: string,
    readonly timeoutSeconds: number,
  ) {
    super(message);
    this.name = 'TrainerTimeoutError';
  }
}
