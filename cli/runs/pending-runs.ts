import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Kysely } from 'kysely';
import { temporalUiRunUrl } from '../../lib/clients/temporal-ui-link';
import { getApproverPolicy } from '../../lib/db/repositories/approver-policies';
import type { Database } from '../../lib/db/schema';
import { effectiveApprovers } from '../../lib/policy/approver-check';
import { RETRAINING_PIPELINE, SHADOW_EVALUATION, searchAttributes, type RetrainingPipelineInput, type ShadowEvaluationInput } from '../../workflows/definitions';

/** A pipeline run waiting for a person to approve or reject its candidate. */
export interface PendingRun {
  workflowId: string;
  runId: string;
  model: string;
  /** The run's day (its held-out partition). */
  day: string;
  /** The candidate version waiting for the decision; null when its history does not say. */
  candidateVersion: number | null;
  /** When the run started waiting (the history's RetrainAwaitingApproval upsert). */
  waitingSince: string | null;
  waitedSeconds: number | null;
  /** Who may decide now: the model's approver policy, narrowed by the run's spec. */
  approvers: string[];
  /** The run's page in the Temporal UI; null when its address is not known. */
  url: string | null;
}

/**
 * Every run waiting for a person, from Temporal itself: visibility lists the running pipelines
 * with `RetrainAwaitingApproval = true` (what the UI's search finds), each run's history says
 * which candidate (the shadow's input), since when (the search-attribute upsert) and which
 * approvers its spec names, and Postgres has the model's current approver policy. Works for
 * runs of any version of the code. Oldest wait first.
 */
export async function listPendingRuns(
  client: Client,
  db: Kysely<Database>,
  options: { namespace: string; uiUrl: string | null; model?: string; now?: Date },
): Promise<PendingRun[]> {
  const model = options.model === undefined ? '' : ` AND ${searchAttributes.model.name} = ${JSON.stringify(options.model)}`;
  const query = `WorkflowType = '${RETRAINING_PIPELINE}' AND ExecutionStatus = 'Running' AND ${searchAttributes.awaitingApproval.name} = true${model}`;
  const now = (options.now ?? new Date()).getTime();
  const runs: PendingRun[] = [];
  for await (const execution of client.workflow.list({ query })) {
    const { events } = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const facts = readWaitFacts(events ?? []);
    const runModel = execution.typedSearchAttributes.get(searchAttributes.model) ?? facts.input?.spec.name ?? '?';
    const policy = await getApproverPolicy(db, runModel);
    runs.push({
      workflowId: execution.workflowId,
      runId: execution.runId,
      model: runModel,
      day: execution.typedSearchAttributes.get(searchAttributes.dataWindow) ?? facts.input?.day ?? '?',
      candidateVersion: facts.candidateVersion,
      waitingSince: facts.waitingSince?.toISOString() ?? null,
      waitedSeconds: facts.waitingSince ? Math.max(0, Math.round((now - facts.waitingSince.getTime()) / 1000)) : null,
      approvers: effectiveApprovers(policy?.approvers ?? [], facts.input?.spec.promotion?.approval.approvers ?? []),
      url: temporalUiRunUrl(options.uiUrl, options.namespace, execution.workflowId, execution.runId),
    });
  }
  return runs.sort((a, b) => (a.waitingSince ?? '').localeCompare(b.waitingSince ?? ''));
}

/** What a pipeline's history says about its wait: its input, the shadow's candidate, and when RetrainAwaitingApproval last became true. */
function readWaitFacts(events: temporal.api.history.v1.IHistoryEvent[]): { input: RetrainingPipelineInput | null; candidateVersion: number | null; waitingSince: Date | null } {
  let input: RetrainingPipelineInput | null = null;
  let candidateVersion: number | null = null;
  let waitingSince: Date | null = null;
  for (const event of events) {
    const started = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (started) input = defaultPayloadConverter.fromPayload<RetrainingPipelineInput>(started);
    const child = event.startChildWorkflowExecutionInitiatedEventAttributes;
    const childInput = child?.workflowType?.name === SHADOW_EVALUATION ? child.input?.payloads?.[0] : undefined;
    if (childInput) candidateVersion = defaultPayloadConverter.fromPayload<ShadowEvaluationInput>(childInput).candidateVersion;
    const upserted = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[searchAttributes.awaitingApproval.name];
    if (upserted && event.eventTime) {
      waitingSince = defaultPayloadConverter.fromPayload<boolean>(upserted) === true ? new Date(Number(event.eventTime.seconds) * 1000 + Math.floor((event.eventTime.nanos ?? 0) / 1e6)) : null;
    }
  }
  return { input, candidateVersion, waitingSince };
}

/** "45 s", "12 min", "3 h 05 min", "2 d 4 h": how long a run has waited, to the precision a person needs. */
export function formatWait(seconds: number | null): string {
  if (seconds === null) return '?';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
