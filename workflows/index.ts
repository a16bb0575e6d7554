export { retrainingPipeline } from './retraining-pipeline';
