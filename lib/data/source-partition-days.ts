import { readdir } from 'node:fs/promises';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { SourceSpec } from '../spec/model-spec';
import type { S3SourceAccess } from './partition-source';
import { s3KeyPrefix } from './partition-source';

/**
 * The partition days a source holds (`<column>=YYYY-MM-DD/` folders of a directory or S3 prefix),
 * sorted: the drift monitor retrains for the newest one. A local path resolves as the spec file's
 * sources do (the caller passes it resolved).
 */
export async function sourcePartitionDays(source: SourceSpec, partitionColumn: string, s3?: S3SourceAccess): Promise<string[]> {
  const pattern = new RegExp(`^${partitionColumn}=(\\d{4}-\\d{2}-\\d{2})/?$`);
  const days: string[] = [];
  if (source.kind === 'local') {
    for (const entry of await readdir(source.path, { withFileTypes: true })) {
      const match = entry.isDirectory() ? pattern.exec(entry.name) : null;
      if (match) days.push(match[1]!);
    }
  } else {
    if (!s3) throw new Error('an S3 source needs an S3 client');
    const bucket = source.bucket ?? s3.bucket;
    const prefix = s3KeyPrefix(source.prefix);
    let token: string | undefined;
    do {
      const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const common of page.CommonPrefixes ?? []) {
        const match = pattern.exec((common.Prefix ?? '').slice(prefix.length));
        if (match) days.push(match[1]!);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return days.sort();
}
