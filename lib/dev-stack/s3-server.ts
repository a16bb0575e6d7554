import { startEmbeddedS3Server } from './embedded-s3-server';
import type { S3Server, S3ServerOptions } from './s3-server-contract';
import { startVersitygw } from './versitygw-server';

export type { S3Server, S3ServerKind, S3ServerOptions } from './s3-server-contract';

/** Starts the S3-compatible server of the given kind and resolves once it answers authenticated requests. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  switch (options.kind) {
    case 'versitygw':
      return startVersitygw(options);
    case 'embedded':
      return startEmbeddedS3Server(options);
    default: {
      const unknown: never = options.kind;
      throw new Error(`unknown S3 server kind '${String(unknown)}'; known: versitygw, embedded`);
    }
  }
}
