/**
 * Who may decide a promotion, and what a refused request leaves on record. The Temporal UI
 * sends no identity, so approvers name themselves; the allowlist is the check. It comes from the
 * model's approver policy, which an operator configures (`retrain approvers set`); the spec of
 * the run may only narrow it (see effectiveApprovers). Pure: used by Update validators.
 */

/** Longest approver name a decision request may carry; longer ones are refused by the validator. */
export const APPROVER_NAME_MAX_LENGTH = 100;
/** Longest reason a decision request may carry; longer ones are refused by the validator. */
export const APPROVAL_REASON_MAX_LENGTH = 2000;
/** Longest reason an `approvals` row of a refused request keeps (the refusal and the start of the given reason). */
export const RECORDED_REFUSAL_REASON_MAX_LENGTH = 500;
/** Refused requests of one run recorded one by one per minute; the others are only counted. */
export const RECORDED_REFUSALS_PER_MINUTE = 10;

/**
 * Whether a named approver may decide a promotion. Returns the refusal message, or null when
 * allowed.
 */
export function approverRefusal(approver: unknown, allowlist: readonly string[]): string | null {
  if (typeof approver !== 'string' || approver.trim() === '') {
    return `name yourself: the payload needs an "approver" field, one of: ${allowlist.join(', ')}`;
  }
  if (!allowlist.includes(approver.trim())) return `approver '${approver}' is not on the allowlist (${allowlist.join(', ')})`;
  return null;
}

/**
 * The names that may decide a run's promotion: the configured ones, narrowed to those the
 * run's spec names when it names any. The spec never widens the list: a name it adds that is
 * not configured is not an approver (and admission refuses such a spec at the run's start when
 * the model has a policy).
 */
export function effectiveApprovers(configured: readonly string[], namedBySpec: readonly string[]): string[] {
  if (namedBySpec.length === 0) return [...configured];
  return configured.filter((name) => namedBySpec.includes(name));
}

/** The names a spec lists that the model's policy does not configure. */
export function unconfiguredApprovers(configured: readonly string[], namedBySpec: readonly string[]): string[] {
  return namedBySpec.filter((name) => !configured.includes(name));
}

/**
 * Why a decision request (`{ approver, reason? }`) is refused, or null when `allowlist` allows
 * it. Sizes are checked first, so an oversized payload is refused as too large whatever it
 * says. `noApprovers` is the message for an empty allowlist (it says how to configure one).
 */
export function decisionRequestRefusal(request: unknown, allowlist: readonly string[], noApprovers: string): string | null {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return 'the payload must be an object: {"approver": "<your name>", "reason": "..."}';
  }
  const { approver, reason } = request as { approver?: unknown; reason?: unknown };
  if (typeof approver === 'string' && approver.length > APPROVER_NAME_MAX_LENGTH) {
    return `the approver name is ${approver.length} characters long; at most ${APPROVER_NAME_MAX_LENGTH} are accepted`;
  }
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return 'the reason must be a string';
  if (typeof reason === 'string' && reason.length > APPROVAL_REASON_MAX_LENGTH) {
    return `the reason is ${reason.length} characters long; at most ${APPROVAL_REASON_MAX_LENGTH} are accepted`;
  }
  if (allowlist.length === 0) return noApprovers;
  return approverRefusal(approver, allowlist);
}

/** `text` cut to at most `max` characters, the cut marked with "…". */
export function truncateText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * What the `approvals` table keeps of a refused request: the approver's name (at most
 * APPROVER_NAME_MAX_LENGTH characters; null when none was given) and a reason of at most
 * RECORDED_REFUSAL_REASON_MAX_LENGTH characters: which Update, the refusal, and the start of
 * the reason the request gave. Bounded whatever the request carried.
 */
export function refusalRecord(update: string, request: unknown, refusal: string): { approver: string | null; reason: string } {
  const fields = typeof request === 'object' && request !== null ? (request as { approver?: unknown; reason?: unknown }) : {};
  const approver = typeof fields.approver === 'string' && fields.approver.trim() !== '' ? truncateText(fields.approver.trim(), APPROVER_NAME_MAX_LENGTH) : null;
  const given = typeof fields.reason === 'string' && fields.reason.trim() !== '' ? `; reason given (${fields.reason.length} characters): ${fields.reason.trim()}` : '';
  return { approver, reason: truncateText(`${update} refused: ${refusal}${given}`, RECORDED_REFUSAL_REASON_MAX_LENGTH) };
}
