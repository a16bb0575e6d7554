import type { ModelVersion } from '../db/repositories/model-versions';
import type { FeatureTable } from '../data/feature-table';
import type { ArtifactStore } from '../store/artifact-store';
import { loadOnnxScorer } from './onnx-scorer';

/** Scores a model version's ONNX artifact (checksum verified) on a feature table; the same path serves built-in and external models. */
export async function scoreVersion(store: ArtifactStore, version: ModelVersion, table: FeatureTable): Promise<Float64Array> {
  const bytes = await store.getBytes({ key: version.artifactKey, sha256: version.artifactSha256 });
  const scorer = await loadOnnxScorer(bytes);
  try {
    return await scorer.scorePositive(table);
  } finally {
    await scorer.release();
  }
}
