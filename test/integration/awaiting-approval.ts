/** Waiting, as an engineer's search in the Temporal UI would, for a run that awaits a person's approval. */
import type { Client, WorkflowHandle } from '@temporalio/client';

/** Resolves once `handle`'s run of `model` is listed as awaiting approval; rejects, with how it ended, if it ends first. */
export async function waitForApproval(client: Client, handle: WorkflowHandle, model: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for await (const execution of client.workflow.list({ query: `RetrainAwaitingApproval = true AND RetrainModel = "${model}"` })) {
      if (execution.status.name === 'RUNNING') return;
    }
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') throw new Error(`the run ended (${status.name}) before awaiting approval: ${JSON.stringify(await handle.result().catch((e: unknown) => String(e)))}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no run of ${model} is awaiting approval`);
}
