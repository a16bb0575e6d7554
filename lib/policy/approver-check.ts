/**
 * Whether a named approver may decide a promotion. The Temporal UI sends no
 * identity, so approvers name themselves; the allowlist from config is the check.
 * Returns the refusal message, or null when allowed. Pure: used by update validators.
 */
export function approverRefusal(approver: unknown, allowlist: readonly string[]): string | null {
  if (typeof approver !== 'string' || approver.trim() === '') {
    return `name yourself: the payload needs an "approver" field, one of: ${allowlist.join(', ')}`;
  }
  if (!allowlist.includes(approver.trim())) return `approver '${approver}' is not on the allowlist (${allowlist.join(', ')})`;
  return null;
}
