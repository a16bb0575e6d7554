import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../../lib/db/repositories/datasets';
import { getDeployment } from '../../lib/db/repositories/deployments';
import { findChampion } from '../../lib/db/repositories/model-versions';
import { listVersionTrainingDays } from '../../lib/db/repositories/version-lineage';
import type { ModelSpec } from '../../lib/spec/model-spec';
import { flightDelayOnHarness } from './flight-delay-on-harness';
import { createPipelineHarness, type PipelineHarness } from './pipeline-harness';


// A champion trained on newer data has learned from the held-out days of older windows. Re-runs and
// backfills of those windows must neither score it on its own training data nor replace it.
describe('comparisons never score a model on its own training data', () => {
  let harness: PipelineHarness;
  let spec: ModelSpec;

  beforeAll(async () => {
    harness = await createPipelineHarness('leakage');
    const example = await flightDelayOnHarness(harness, { name: 'flight-delay-leak', days: { from: '2001-01-03', to: '2001-01-10' } });
    spec = {
      ...example,
      // A 3-day window shifts the weekday mix from run to run: drift must not force every run from scratch here.
      training: { ...example.training, windowPartitions: 3, policy: { ...example.training.policy, maxFeatureDrift: 100 } },
      // Generous gates, so the newer day's candidate becomes the champion the older windows then meet.
      gates: { minimums: { auc: 0.5 }, maxRegression: { auc: 0.2 }, sliceMaxRegression: {}, sliceMinRows: 500 },
    };
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('a re-run of an old day after a newer champion exists keeps its recorded decision and changes nothing served; a new old window is compared with no model that saw it', async () => {
    const v1 = await harness.runPipeline({ spec, day: '2001-01-08' }); // trained on 01-05..01-07
    expect(v1.decision).toBe('promote');
    const v2 = await harness.runPipeline({ spec, day: '2001-01-09' }); // fine-tunes v1 on 01-06..01-08: it learned from 01-08
    expect(v2.training.mode, v2.training.reason).toBe('fine_tune');
    expect(v2.decision, v2.reason).toBe('promote');
    const deploymentBefore = await getDeployment(harness.deps.db, spec.name);
    expect(deploymentBefore?.championVersionId).toBe(v2.version.id);

    // The re-run of 2001-01-08: the same inputs give back v1, whose recorded decision stands.
    const rerun = await harness.runPipeline({ spec, day: '2001-01-08' });
    expect(rerun.version).toMatchObject({ id: v1.version.id, reused: true });
    expect(rerun.decision).toBe('unchanged');
    expect(rerun.reason).toMatch(/^v1 was decided by the run of this window that finished \d{4}-\d{2}-\d{2}: promote \(.*\); nothing is compared or changed again$/);
    expect(rerun.evaluation.id).toBe(v1.evaluation.id);
    expect(rerun.evaluation.recordedDecision).toMatchObject({ decision: 'promote' });

    // A window never run before, older than the champion: 2001-01-07, held out from a model trained on 01-04..01-06.
    const backfill = await harness.runPipeline({ spec, day: '2001-01-07' });
    expect(backfill.training.mode).toBe('from_scratch');
    expect(backfill.evaluation.comparison).toMatchObject({ championVersion: 2, championSawHoldout: true });
    // v1 (01-05..01-07) saw 01-07 as well: no earlier champion qualifies, so no model is compared.
    expect(backfill.evaluation.comparison?.comparatorVersion).toBeNull();
    expect(backfill.metrics.championVersion).toBeNull();
    expect(backfill.decision).toBe('unchanged');
    expect(backfill.reason).toMatch(/^champion v2 learned from 2001-01-07 .*never replaces it/);

    const deploymentAfter = await getDeployment(harness.deps.db, spec.name);
    expect(deploymentAfter?.championVersionId).toBe(v2.version.id);
    expect(deploymentAfter?.revision).toBe(deploymentBefore?.revision);
    expect((await findChampion(harness.deps.db, spec.name))?.id).toBe(v2.version.id);

    // Every offline evaluation of the model: neither the candidate nor the model it was compared with had the held-out day in its training data.
    const lineage = new Map((await listVersionTrainingDays(harness.deps.db, spec.name)).map((v) => [v.versionId, v.trainedOnDays]));
    const evaluations = await harness.deps.db.selectFrom('evaluations').selectAll().where('kind', '=', 'offline').execute();
    const ours = evaluations.filter((e) => lineage.has(String(e.model_version_id)));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const evaluation of ours) {
      const { partitionDay } = await getDataset(harness.deps.db, String(evaluation.dataset_id));
      expect(lineage.get(String(evaluation.model_version_id)), `candidate of evaluation ${evaluation.id}`).not.toContain(partitionDay);
      if (evaluation.champion_version_id !== null) {
        expect(lineage.get(String(evaluation.champion_version_id)), `comparator of evaluation ${evaluation.id} on ${partitionDay}`).not.toContain(partitionDay);
      }
    }
  });
});
