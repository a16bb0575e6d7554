import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** How to reach an S3-compatible server. */
export interface S3Connection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * 'WHEN_REQUIRED' for servers that reject the AWS SDK's default flexible checksums (the
   * embedded s3rver does); unset: the SDK default, or `AWS_REQUEST_CHECKSUM_CALCULATION`.
   */
  requestChecksumCalculation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

/**
 * An S3 client for S3-compatible servers: path-style URLs (`<endpoint>/<bucket>/<key>`, no
 * bucket DNS names), and streamed bodies buffered into 64 KiB chunks, since servers that
 * enforce the S3 rule "only the last chunk may be smaller than 8 KiB" reject small stream chunks.
 */
export function createS3Client(connection: S3Connection, overrides: S3ClientConfig = {}): S3Client {
  return new S3Client({
    endpoint: connection.endpoint,
    region: connection.region,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    forcePathStyle: true,
    requestStreamBufferSize: 64 * 1024,
    ...(connection.requestChecksumCalculation ? { requestChecksumCalculation: connection.requestChecksumCalculation } : {}),
    ...overrides,
  });
}
