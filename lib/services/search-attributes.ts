/** Value types of custom search attributes, spelled as the Temporal CLI and Web UI spell them. */
export type SearchAttributeKind = 'Keyword' | 'Bool' | 'Int' | 'Datetime' | 'Text' | 'Double';

/**
 * Custom search attributes Retrain's workflows set, so waiting runs are easy to find in the
 * Web UI, e.g. `RetrainAwaitingApproval = true AND RetrainModel = "flight-delay"`.
 */
export const RETRAIN_SEARCH_ATTRIBUTES = {
  /** Model name from the model spec. */
  RetrainModel: 'Keyword',
  /** Current pipeline stage: ingest, validate, train, evaluate, approval, canary, … */
  RetrainStage: 'Keyword',
  /** True while the run waits for approvePromotion / rejectPromotion. */
  RetrainAwaitingApproval: 'Bool',
  /** The run's data window, e.g. "2001-01-08". */
  RetrainDataWindow: 'Keyword',
} as const satisfies Record<string, SearchAttributeKind>;
