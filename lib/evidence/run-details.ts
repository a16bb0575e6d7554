/**
 * A pipeline run's current details (Markdown, rendered by the Temporal Web UI): the stage and
 * what it does, then the evidence gathered so far, in the order it was gathered, and kept to the
 * end of the run: the offline evaluation with its report link, the shadow, the approval (how to
 * decide while waiting; who decided, when and why afterwards), the canary. Pure: the workflow
 * keeps a RunEvidence and renders it with every change.
 */
import { renderCanaryEvidence, type CanaryProgress } from './canary-evidence';
import { blocks, escapeText } from './markdown';
import { renderOfflineEvidence, type OfflineEvidence } from './offline-evidence';
import { renderShadowEvidence, type ShadowEvidence } from './shadow-evidence';

export interface ApprovalEvidence {
  /** Who may decide, as the workflow states it (the policy, the spec's narrowing, how often it is read). */
  approvers: string;
  /** What happened while waiting, e.g. "Escalated 2×: no decision after 1200 s." */
  note: string;
  /** The decision, once made (or the wait timed out); `at` is workflow time, ISO 8601. */
  decision?: { action: 'approve' | 'reject' | 'timeout'; approver: string | null; reason: string; at: string };
}

export interface RunEvidence {
  model: string;
  day: string;
  /** The pipeline stage: ingest, train, evaluate, shadow, awaiting-approval, canary, promote, done, failed. */
  stage: string;
  /** What the stage is doing, or how it ended. */
  message: string;
  candidateVersion?: number;
  offline?: OfflineEvidence;
  shadow?: ShadowEvidence;
  approval?: ApprovalEvidence;
  canary?: CanaryProgress;
  /** The run's decision, once it has one. */
  outcome?: { decision: 'promote' | 'reject' | 'unchanged'; reason: string };
}

export function renderRunDetails(evidence: RunEvidence): string {
  return blocks(
    `## ${title(evidence)}`,
    `Run of **${escapeText(evidence.model)}** for **${escapeText(evidence.day)}** · stage \`${evidence.stage.replace(/`/g, '')}\`: ${escapeText(evidence.message)}`,
    evidence.outcome ? `**Decision: ${evidence.outcome.decision}**: ${escapeText(evidence.outcome.reason)}` : null,
    evidence.approval ? approvalSection(evidence.approval, evidence) : null,
    evidence.offline ? renderOfflineEvidence(evidence.offline) : null,
    evidence.shadow ? renderShadowEvidence(evidence.shadow) : null,
    evidence.canary ? renderCanaryEvidence(evidence.canary) : null,
  );
}

function title(e: RunEvidence): string {
  const who = `${escapeText(e.model)}${e.candidateVersion === undefined ? '' : ` v${e.candidateVersion}`}`;
  if (e.stage === 'failed') return `${who}: the run failed`;
  const decision = e.approval?.decision;
  if (e.stage === 'awaiting-approval' && !decision) return `${who} is waiting for approval`;
  if (e.stage === 'canary' && e.canary?.current) return `${who} is in its canary (stage ${e.canary.current.stage} of ${e.canary.plan.length}, ${e.canary.current.percent}%)`;
  if (e.outcome) return `${who}: ${{ promote: 'promoted', reject: 'rejected', unchanged: 'unchanged' }[e.outcome.decision]}`;
  if (decision) return `${who}: ${decision.action === 'approve' ? 'approved' : decision.action === 'reject' ? 'rejected' : 'no decision in time'}`;
  return `${who}: ${escapeText(e.stage)}`;
}

function approvalSection(approval: ApprovalEvidence, e: RunEvidence): string {
  const { decision } = approval;
  if (decision) {
    const at = decision.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    const reason = decision.reason ? `: ${escapeText(decision.reason)}` : ' (no reason given)';
    const line =
      decision.action === 'timeout'
        ? `**No decision in time** (${at})${reason}.`
        : `**${decision.action === 'approve' ? 'Approved' : 'Rejected'} by ${escapeText(decision.approver ?? 'unknown')}** at ${at}${reason}.`;
    return blocks('### Approval', line, `${escapeText(approval.approvers)}`);
  }
  if (e.stage !== 'awaiting-approval') return blocks('### Approval', escapeText(approval.approvers));
  return blocks(
    '### Approval',
    approval.note ? `**${escapeText(approval.note)}**` : null,
    'Send the **approvePromotion** or **rejectPromotion** Update (More Actions → Send an Update) with `{"approver": "<your name>", "reason": "..."}`.',
    escapeText(approval.approvers),
  );
}
