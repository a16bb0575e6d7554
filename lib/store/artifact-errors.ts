/** Raised when an artifact recorded in Postgres is absent from the bucket. */
export class ArtifactNotFoundError extends Error {
  readonly type = 'ArtifactNotFound';
  constructor(readonly key: string, bucket: string) {
    super(`artifact s3://${bucket}/${key} does not exist`);
    this.name = 'ArtifactNotFoundError';
  }
}

/** Raised when an artifact's bytes no longer hash to the sha256 recorded for it (corruption or tampering). */
export class ArtifactChecksumError extends Error {
  readonly type = 'ArtifactChecksumMismatch';
  constructor(readonly key: string, readonly expected: string, readonly actual: string) {
    super(`artifact ${key} is corrupted: sha256 ${actual} does not match the recorded ${expected}`);
    this.name = 'ArtifactChecksumError';
  }
}

/** Raised when an artifact is larger than its reader accepts (a report served whole is read into memory first). */
export class ArtifactTooLargeError extends Error {
  readonly type = 'ArtifactTooLarge';
  constructor(readonly key: string, readonly size: number, readonly maxBytes: number) {
    super(`artifact ${key} is ${size} bytes, more than the ${maxBytes} this reader accepts`);
    this.name = 'ArtifactTooLargeError';
  }
}
