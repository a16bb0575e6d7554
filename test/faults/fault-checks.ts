import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { countDatasets } from '../../lib/db/repositories/datasets';
import { getDeployment } from '../../lib/db/repositories/deployments';
import { listModelVersions } from '../../lib/db/repositories/model-versions';
import type { FaultStack } from './fault-stack';
import { say } from './fault-stack';

/** Exactly one dataset row and one snapshot object per partition day: nothing ingested twice, nothing half-written. */
export async function expectOneSnapshotPerPartition(stack: FaultStack, model: string, days: readonly string[]): Promise<void> {
  for (const day of days) {
    expect(await countDatasets(stack.db, model, day), `datasets of ${model} for ${day}`).toBe(1);
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.s3Config.bucket, Prefix: `datasets/${model}/${day}/` }));
    expect(listed.KeyCount ?? 0, `snapshot objects of ${model} for ${day}`).toBe(1);
  }
  say(`checked: one dataset row and one snapshot object for each of ${days.length} partitions of ${model}`);
}

/** The registry's stages and the deployments row say the same thing: the champion is what the gateway is told to serve. */
export async function expectDeploymentAgreesWithRegistry(stack: FaultStack, model: string): Promise<void> {
  const versions = await listModelVersions(stack.db, model);
  const deployment = await getDeployment(stack.db, model);
  const byStage = (stage: string) => versions.filter((v) => v.stage === stage).map((v) => v.id);
  expect(byStage('champion')).toEqual(deployment?.championVersionId ? [deployment.championVersionId] : []);
  expect(byStage('canary')).toEqual(deployment?.canaryVersionId ? [deployment.canaryVersionId] : []);
  expect(byStage('shadow')).toEqual(deployment?.shadowVersionId ? [deployment.shadowVersionId] : []);
  say(`checked: deployment of ${model} (champion v${versions.find((v) => v.stage === 'champion')?.version ?? '-'}) agrees with the registry`);
}
