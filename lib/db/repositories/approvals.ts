import type { ApprovalAction, ApprovalRow } from '../schema';
import type { DbExecutor } from '../executor';

export interface ApprovalEvent {
  id: string;
  workflowId: string;
  eventKey: string;
  model: string;
  modelVersionId: string;
  action: ApprovalAction;
  approver: string | null;
  reason: string;
  createdAt: Date;
}

export type NewApprovalEvent = Omit<ApprovalEvent, 'id' | 'createdAt'>;

function toApprovalEvent(row: ApprovalRow): ApprovalEvent {
  return {
    id: row.id,
    workflowId: row.workflow_id,
    eventKey: row.event_key,
    model: row.model,
    modelVersionId: row.model_version_id,
    action: row.action,
    approver: row.approver,
    reason: row.reason,
    createdAt: row.created_at,
  };
}

/** Records a decision or refusal once per (workflow, event key). */
export async function recordApprovalEvent(db: DbExecutor, event: NewApprovalEvent): Promise<void> {
  await db
    .insertInto('approvals')
    .values({
      workflow_id: event.workflowId,
      event_key: event.eventKey,
      model: event.model,
      model_version_id: event.modelVersionId,
      action: event.action,
      approver: event.approver,
      reason: event.reason,
    })
    .onConflict((oc) => oc.constraint('approvals_workflow_event_unique').doNothing())
    .execute();
}

export async function listApprovalEvents(db: DbExecutor, workflowId: string): Promise<ApprovalEvent[]> {
  const rows = await db.selectFrom('approvals').selectAll().where('workflow_id', '=', workflowId).orderBy('id').execute();
  return rows.map(toApprovalEvent);
}
