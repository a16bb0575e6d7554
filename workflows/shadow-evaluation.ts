import { proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities';
import { ShadowEvaluationInputSchema } from '../lib/spec/workflow-inputs';
import { judgeShadow } from '../lib/policy/shadow-gates';
import { renderShadowEvidence } from '../lib/evidence/shadow-evidence';
import { activityOptions } from './activity-options';
import { SHADOW_EVALUATION, type ShadowEvaluationInput, type ShadowEvaluationResult } from './definitions';
import { validateWorkflowInput } from './workflow-input';

// The workflow runs on the control queue (the pipeline's), whose workers run these activities.
const { startShadow, countMirroredRequests, observeShadow, finishShadow } = proxyActivities<ControlActivities>(activityOptions.liveStep);

/**
 * The candidate becomes the shadow: the gateway mirrors all traffic to it and
 * logs its predictions, never returning them. The workflow waits durably for
 * enough mirrored requests or the maximum duration, then judges agreement (of
 * labels and of scores), latency, and accuracy and probability metrics (log loss,
 * Brier score, ROC AUC) on the labels that arrived, and stops the mirror.
 */
export async function shadowEvaluation(input: ShadowEvaluationInput): Promise<ShadowEvaluationResult> {
  validateWorkflowInput(SHADOW_EVALUATION, ShadowEvaluationInputSchema, input);
  const { workflowId } = workflowInfo();
  const { since } = await startShadow({ versionId: input.candidateVersionId, workflowId });
  const deadline = Date.now() + input.spec.maxDurationSeconds * 1000;
  let progress: { requests: number; now: string };
  for (;;) {
    progress = await countMirroredRequests({ model: input.model, candidateVersionId: input.candidateVersionId, since });
    const { requests } = progress;
    setCurrentDetails(`Shadow of **${input.model} v${input.candidateVersion}** against champion v${input.championVersion}: ${requests}/${input.spec.minRequests} mirrored requests`);
    if (requests >= input.spec.minRequests || Date.now() >= deadline) break;
    await sleep(Math.min(input.spec.pollSeconds * 1000, Math.max(deadline - Date.now(), 1)));
  }
  // Activity arguments are not part of what a replay compares: passing the bootstrap settings changes no recorded history.
  const observation = await observeShadow({ model: input.model, candidateVersionId: input.candidateVersionId, since, until: progress.now, bootstrap: input.spec.bootstrap });
  const verdict = judgeShadow(observation, input.spec);
  const { evaluationId } = await finishShadow({
    versionId: input.candidateVersionId,
    holdoutDatasetId: input.holdoutDatasetId,
    championVersionId: input.championVersionId,
    observation,
    verdict,
    workflowId,
  });
  setCurrentDetails(`Shadow of **${input.model} v${input.candidateVersion}** against champion v${input.championVersion}\n\n${renderShadowEvidence({ observation, verdict, spec: input.spec })}`);
  return { evaluationId, observation, verdict };
}
