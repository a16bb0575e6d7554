import type { S3Client } from '@aws-sdk/client-s3';
import type { RetrainEnvironment } from '../../lib/config/environment';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { type ModelSpec } from '../../lib/spec/model-spec';
import { prepareFlightDelayPartitions, type PreparedPartition } from '../../lib/data/flight-delay-prep';
import { connectToStack } from '../stack/stack-client';

/**
 * Writes flight-delay partitions for [from, to] to the spec's source: its local
 * directory, or its S3 prefix in the stack's bucket. Re-running writes nothing new.
 */
export async function prepareExampleData(
  spec: ModelSpec,
  range: { from: string; to: string },
  s3: { client: S3Client; bucket: string } | undefined,
): Promise<PreparedPartition[]> {
  const { source } = spec;
  if (source.format !== 'parquet') throw new Error(`prep writes Parquet partitions, but ${spec.name}'s source format is ${source.format}`);
  if (source.kind === 'local') {
    return prepareFlightDelayPartitions({ ...range, target: { kind: 'local', dir: source.path } });
  }
  if (!s3) throw new Error(`${spec.name} reads from S3, but no S3 connection is available`);
  return prepareFlightDelayPartitions({ ...range, target: { kind: 's3', client: s3.client, bucket: source.bucket ?? s3.bucket, prefix: source.prefix } });
}

/** `retrain prep`: writes the example's daily partitions to the spec's source. */
export async function prepCommand(env: RetrainEnvironment, options: { specFile: string; from: string; to: string }): Promise<void> {
  const spec = loadModelSpec(options.specFile);
  const stack = spec.source.kind === 's3' ? await connectToStack(env) : undefined;
  try {
    const prepared = await prepareExampleData(spec, options, stack && { client: stack.s3, bucket: stack.connection.s3.bucket });
    for (const p of prepared) process.stdout.write(`${p.day}  ${String(p.rows).padStart(6)} rows  ${p.written ? 'written' : 'unchanged'}  ${p.key}\n`);
  } finally {
    await stack?.close();
  }
}