// Types for the parts of @20minutes/s3rver (plain JavaScript, no bundled types) that Retrain uses.

declare module '@20minutes/s3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port; run() resolves with the bound address. */
    port?: number;
    /** Buckets are directories below this one. */
    directory?: string;
    silent?: boolean;
    /** Accept requests whose signature does not match (the access key must still exist). */
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  class S3rver {
    constructor(options?: S3rverOptions);
    httpServer?: Server;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}

declare module '@20minutes/s3rver/lib/models/account' {
  interface AWSAccount {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void;
    revokeAccessKey(accessKeyId: string): void;
  }
  /** The account every request is checked against; key pairs are global to the process. */
  const accounts: { DUMMY_ACCOUNT: AWSAccount };
  export = accounts;
}
