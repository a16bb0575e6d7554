export { retrainingPipeline } from './retraining-pipeline';
export { shadowEvaluation } from './shadow-evaluation';
export { canaryRollout } from './canary-rollout';
export { driftMonitor } from './drift-monitor';
export { rollbackChampion } from './rollback-champion';
export { labelingHandoff } from './labeling-handoff';
