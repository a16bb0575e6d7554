import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Kysely } from 'kysely';
import type { Database } from '../../lib/db/schema';
import type { TrainingHeartbeat } from '../../lib/training/candidate-training';
import { pipelineStateQuery, type PipelineStage } from '../../workflows/definitions';

/** Polls the run's state query until it reaches `stage` (or a later one named in `orLater`). */
export async function waitForStage(handle: WorkflowHandle, stage: PipelineStage, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let polls = 0; Date.now() < deadline; polls++) {
    try {
      const state = await handle.query(pipelineStateQuery);
      last = `${state.stage}: ${state.message}`;
      if (state.stage === stage) return;
      if (state.stage === 'done' || state.stage === 'failed') break;
    } catch (err) {
      last = (err as Error).message;
    }
    // A run that failed before it recorded a stage (e.g. refused at its start) still answers the query.
    if (polls % 20 === 19 && (await handle.describe()).status.name !== 'RUNNING') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { status } = await handle.describe();
  const outcome = status.name === 'RUNNING' ? '' : `; it ended ${status.name}: ${await handle.result().then(() => 'with a result', (e: unknown) => describeFailure(e))}`;
  throw new Error(`${handle.workflowId} did not reach stage '${stage}' (last: ${last})${outcome}`);
}

/** Request ids in the prediction log that start with `prefix`, served rows only (shadow rows repeat ids). */
export async function listLoggedRequestIds(db: Kysely<Database>, model: string, prefix: string): Promise<string[]> {
  const rows = await db
    .selectFrom('predictions')
    .select('request_id')
    .where('model', '=', model)
    .where('role', '<>', 'shadow')
    .where('request_id', 'like', `${prefix}-%`)
    .execute();
  return rows.map((r) => r.request_id);
}

/** Waits until the run's trainModel activity has heartbeated a checkpoint at `epoch` or later; returns that epoch. */
export async function waitForCheckpointedEpoch(handle: WorkflowHandle, epoch: number, timeoutMs = 180_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { raw, status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      const outcome = await handle.result().then((r) => JSON.stringify(r).slice(0, 500), (e: unknown) => String(e));
      throw new Error(`${handle.workflowId} ended (${status.name}) before training checkpointed epoch ${epoch}: ${outcome}`);
    }
    const training = raw.pendingActivities?.find((a) => a.activityType?.name === 'trainModel');
    const payload = training?.heartbeatDetails?.payloads?.[0];
    const details = payload ? defaultPayloadConverter.fromPayload<TrainingHeartbeat>(payload) : undefined;
    if (details?.checkpoint && (details.epoch ?? 0) >= epoch) return details.epoch!;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${handle.workflowId}: no training checkpoint at epoch ${epoch} within ${timeoutMs} ms`);
}

/** The innermost message of a failure chain (WorkflowFailedError → ActivityFailure → ApplicationFailure). */
function describeFailure(err: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = err; e instanceof Error && messages.length < 6; e = e.cause) messages.push(e.message);
  return messages.join(': ');
}
