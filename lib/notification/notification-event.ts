/**
 * What a workflow tells people about, as the workflow describes it (the activity adds the run's
 * identity and its Temporal UI link). Plain data: workflows build these in their sandbox and
 * import this file for its types only.
 */

/** The promotion events Retrain notifies. */
export const NOTIFICATION_EVENTS = ['awaiting-approval', 'approval-escalated', 'canary-rolled-back', 'promoted', 'champion-rolled-back'] as const;
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationEvent {
  event: NotificationEventKind;
  /** Names the event within its run ('awaiting-approval', 'escalated-2'): one notification per key and target. */
  key: string;
  model: string;
  /** When it happened (the workflow's clock, so a retried activity sends the same payload). */
  at: string;
  /** One line saying what happened, e.g. "flight-delay v2 is waiting for approval". */
  title: string;
  /** The version the event is about (the candidate, the promoted or the demoted version). */
  candidateVersion: number | null;
  /** The champion serving all traffic after the event. */
  championVersion: number | null;
  /** What the person deciding needs: the offline decision line, the shadow verdict line and who may decide. */
  evidence: { offline: string | null; shadow: string | null; approvers: string[] };
  /** The decision, the rollback's reason, how long the wait has lasted; null when the title says it all. */
  detail: string | null;
  /** Who acted (approved, asked for the rollback), when a person did. */
  actor: string | null;
  /** Links besides the run's own, e.g. the evaluation report. */
  links: { report: string | null };
}

/** The run an event belongs to, as the activity that sends it knows it. */
export interface NotifiedRun {
  namespace: string;
  workflowId: string;
  runId: string;
  /** The run's page in the Temporal Web UI; null when the UI's address is not known. */
  url: string | null;
}
