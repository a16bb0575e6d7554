export { retrainingPipeline } from './retraining-pipeline';
export { shadowEvaluation } from './shadow-evaluation';
export { canaryRollout } from './canary-rollout';
export { labelingHandoff } from './labeling-handoff';
