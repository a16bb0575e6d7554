import type { LabelingTimeoutSpec } from '../spec/labeling-spec';

/**
 * The labeling wait's decisions, pure so the workflow makes them from recorded activity results:
 * when a batch is done, and what its timeout does.
 */

/** The counts the decisions read (lib/labeling/label-batch-progress.ts LabelBatchProgress). */
export interface LabelCounts {
  items: number;
  labeled: number;
  pending: number;
  review: number;
  ties: number;
}

/**
 * Done when nothing waits for people: every item has its annotators and no item waits for a
 * review. Tied items (rule majority) do not hold the batch: no further annotation is asked for,
 * they are reported and left out of training.
 */
export function labelingComplete(counts: LabelCounts): boolean {
  return counts.pending === 0 && counts.review === 0;
}

export type LabelingTimeoutDecision = { action: 'escalate'; reason: string } | { action: 'proceed'; reason: string } | { action: 'fail'; reason: string };

/** What the timeout does with the batch as it is (`waitedSeconds` since it was sent). */
export function decideLabelingTimeout(counts: LabelCounts, timeout: LabelingTimeoutSpec, waitedSeconds: number): LabelingTimeoutDecision {
  const fraction = counts.items === 0 ? 1 : counts.labeled / counts.items;
  const what = `${counts.labeled} of ${counts.items} items labeled (${formatShare(fraction)}) after ${waitedSeconds} s`;
  switch (timeout.onTimeout) {
    case 'escalate':
      return { action: 'escalate', reason: `${what}; escalated, still waiting` };
    case 'fail':
      return { action: 'fail', reason: `labeling timed out: ${what} (labels.timeout.onTimeout is fail)` };
    case 'proceed':
      return fraction >= timeout.minLabeledFraction
        ? { action: 'proceed', reason: `labeling timed out with ${what}, at least the ${formatShare(timeout.minLabeledFraction)} required: training with what is labeled` }
        : {
            action: 'fail',
            reason: `labeling timed out with ${what}: fewer than the ${formatShare(timeout.minLabeledFraction)} labels.timeout.minLabeledFraction requires to proceed`,
          };
  }
}

function formatShare(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}
