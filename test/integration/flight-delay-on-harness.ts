/**
 * An example model on a pipeline harness: the spec from examples/<example>/model.json, renamed
 * apart from other test files on the shared Temporal server, reading flight-delay days written
 * to the harness's source S3 under its own task queue's prefix.
 */
import path from 'node:path';
import { loadModelSpec } from '../../lib/config/model-spec-file';
import { prepareFlightDelayPartitions } from '../../lib/data/flight-delay-prep';
import type { ModelSpec } from '../../lib/spec/model-spec';
import type { PipelineHarness } from './pipeline-harness';

const ROOT = path.join(__dirname, '..', '..');

export interface FlightDelayOnHarnessOptions {
  /** The model's name before the harness's suffix: `flight-delay-live` becomes `flight-delay-live-<6 hex>`. */
  name: string;
  /** The days of 2001 written to the source, inclusive. */
  days: { from: string; to: string };
  /** The folder under examples/ whose model.json is the spec (default: flight-delay). */
  example?: string;
}

export async function flightDelayOnHarness(harness: PipelineHarness, options: FlightDelayOnHarnessOptions): Promise<ModelSpec> {
  const prefix = `sources/${harness.taskQueue}/flight-delay/`;
  const { client, bucket } = harness.deps.sourceS3;
  await prepareFlightDelayPartitions({ ...options.days, target: { kind: 's3', client, bucket, prefix } });
  const example = loadModelSpec(path.join(ROOT, 'examples', options.example ?? 'flight-delay', 'model.json'));
  return { ...example, name: `${options.name}-${harness.taskQueue.slice(-6)}`, source: { kind: 's3', prefix, format: 'parquet' } };
}
