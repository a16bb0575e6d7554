import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/** Creates `bucket` unless it exists already; safe to call from several processes at once. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  if (await bucketExists(client, bucket)) return;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    // Created concurrently (servers disagree on which of the two errors to send for one's own bucket).
    if ((name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') && (await bucketExists(client, bucket))) return;
    throw new Error(`could not create bucket ${bucket}: ${(err as Error).message}`, { cause: err });
  }
}

async function bucketExists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchBucket') return false;
    throw new Error(`could not check bucket ${bucket}: ${(err as Error).name} ${(err as Error).message}`, { cause: err });
  }
}
