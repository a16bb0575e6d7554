/** The built-in trainers' public API: train, score, export, checkpoint and model formats. */
export { trainBuiltinModel, type BuiltinTrainingRequest, type EpochProgress } from './train-builtin-model';
export { predictBuiltinModel } from './predict-builtin-model';
export { exportBuiltinModelToOnnx } from './builtin-onnx-export';
export { RETRAIN_METADATA_KEY, type RetrainOnnxMetadata } from './onnx-metadata';
export {
  BuiltinAlgorithm,
  BuiltinModel,
  BuiltinTrainingInfo,
  CategoricalVocabulary,
  FeaturePreprocessing,
  LogisticRegressionModel,
  MlpModel,
  NumericStandardization,
  TrainingMode,
  parseBuiltinModel,
} from './builtin-model';
export { TRAINER_CHECKPOINT_VERSION, TrainerCheckpoint, parseTrainerCheckpoint } from './trainer-checkpoint';
