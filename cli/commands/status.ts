import type { RetrainEnvironment } from '../../lib/config/environment';
import { getDeployment, listDeploymentChanges, type Deployment } from '../../lib/db/repositories/deployments';
import { listModelVersions, type ModelVersion } from '../../lib/db/repositories/model-versions';
import { latestEventPerStage, type VersionStageEvent } from '../../lib/db/repositories/version-stage-events';
import { connectToStack } from '../stack/stack-client';
import { renderTable } from '../runs/version-table';

/** Traffic changes `retrain status` lists, newest last. */
const RECENT_CHANGES = 5;

/**
 * `retrain status`: a model's versions with their stage, the reason for it and the run that
 * made them; each version's stage history (the latest event of every stage it went through,
 * from the kept history, so a reason is not lost when the stage moves on); then what the
 * gateways serve (champion, canary and its share, shadow) and the latest traffic changes with
 * their reasons.
 */
export async function statusCommand(env: RetrainEnvironment, options: { model: string }): Promise<void> {
  const stack = await connectToStack(env);
  try {
    const versions = await listModelVersions(stack.db, options.model);
    if (versions.length === 0) {
      process.stdout.write(`no versions of model '${options.model}' yet\n`);
      return;
    }
    process.stdout.write(
      `${renderTable(
        ['version', 'stage', 'created', 'workflow', 'reason'],
        versions.map((v) => [`v${v.version}`, v.stage, v.createdAt.toISOString(), v.workflowId, v.stageReason]),
      )}\n`,
    );
    const events = await latestEventPerStage(stack.db, options.model);
    if (events.length > 0) process.stdout.write(`\nstage history (the latest event of each stage, per version):\n${renderStageHistory(events)}\n`);
    const deployment = await getDeployment(stack.db, options.model);
    if (!deployment) {
      process.stdout.write('\nserving: nothing (no version was ever deployed)\n');
      return;
    }
    process.stdout.write(`\n${describeServing(deployment, versions)}\n`);
    const changes = (await listDeploymentChanges(stack.db, options.model)).slice(-RECENT_CHANGES);
    if (changes.length > 0) {
      process.stdout.write(
        `\nlatest traffic changes:\n${renderTable(
          ['revision', 'at', 'reason'],
          changes.map((c) => [String(c.revision), c.createdAt.toISOString(), c.reason]),
        )}\n`,
      );
    }
  } finally {
    await stack.close();
  }
}

/** One row per version and stage it went through: when it last entered the stage, from which, by which run, and why. */
export function renderStageHistory(events: readonly VersionStageEvent[]): string {
  return renderTable(
    ['version', 'stage', 'at', 'from', 'workflow', 'reason'],
    events.map((e) => [
      `v${e.version}`,
      e.toStage,
      e.createdAt.toISOString(),
      e.fromStage ?? '-',
      e.workflowId ?? '-',
      e.backfilled ? `${e.reason} (the stage when the history began; earlier stages were not kept)` : e.reason,
    ]),
  );
}

/** One line: which version takes which traffic, e.g. "serving (revision 7): champion v2, canary v3 at 25%, shadow none". */
export function describeServing(deployment: Deployment, versions: readonly ModelVersion[]): string {
  const name = (id: string | null) => {
    if (id === null) return 'none';
    const version = versions.find((v) => v.id === id);
    return version ? `v${version.version}` : `version id ${id}`;
  };
  const canary = deployment.canaryVersionId === null ? 'none' : `${name(deployment.canaryVersionId)} at ${Math.round(deployment.canaryWeight * 1000) / 10}%`;
  return `serving (revision ${deployment.revision}): champion ${name(deployment.championVersionId)}, canary ${canary}, shadow ${name(deployment.shadowVersionId)}`;
}
