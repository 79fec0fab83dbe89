import './register-gradients.js';
// The documented API. Building blocks the other @probunet packages share (ops, validation, Adam,
// the backend-capability protocol) are in ./internal.ts, exported as the unstable
// `@probunet/core/internal`.
export { CheckpointError, ConfigError, DisposedError, InputError, NonFiniteLossError, NonFiniteWeightsError, ProbUNetError, NoBackendError } from './errors.js';
export type {
  ComponentConfig,
  Encoder,
  FusionHead,
  GaussianParams,
  LatentNet,
  PreparedFusion,
  SampleOptions,
  SegmentationSampler,
} from './spec/components.js';
export { countParameters, type Parameter } from './spec/parameter.js';
export { ConvLayer, type ConvLayerOptions } from './components/conv-layer.js';
export { DownPath } from './components/down-path.js';
export { UNetEncoder, type UNetEncoderConfig, type UNetEncoderOptions } from './components/unet-encoder.js';
export { ConvGaussian, type ConvGaussianConfig, type ConvGaussianOptions } from './components/conv-gaussian.js';
export { TileConcatFusion, type TileConcatFusionConfig, type TileConcatFusionOptions } from './components/fusion-head.js';
export { componentFactory, corePlugin, createRegistry, type ComponentFactory, type ModelFactory, type ParameterShapes, type ParameterShapesFactory, type ProbUNetPlugin, type Registry } from './registry.js';
export { SeededRandom } from './ops/random.js';
export {
  AUTHORS_DEFAULTS,
  DEFAULT_IGNORE_LABEL,
  type ProbUNetConfig,
  type ProbUNetModelConfig,
  type ProbUNetParts,
} from './model/config.js';
export { createProbUNet, type CreateOptions } from './model/create.js';
export { modelTypeOf, type CheckpointableModel, type ModelConfig, type TypedModelConfig } from './model/checkpointable.js';
export { hasLatentSpace, LATENT_SPACE_METHODS, type LatentSpaceModel } from './model/latent-space.js';
export {
  ProbUNet,
  type AnnotationScore,
  type ElboTerms,
  type LatentTraversal,
  type LatentTraversalOptions,
  type ParameterCounts,
  type ProbUNetSampleOptions,
} from './model/prob-unet.js';
export type { InputSpec } from './spec/input.js';
export { AUTHORS_SCHEDULE, learningRateAt, type PiecewiseSchedule } from './training/schedule.js';
export { Trainer, type ResumeOptions, type SavedTrainerState, type StepMetrics, type TrainBatch, type TrainerOptions, type TrainerState } from './training/trainer.js';
export type { TrainableModel } from './spec/trainable-model.js';
export type { GradientResult, GradientSource } from './spec/gradient-source.js';
export { ModelGradients } from './training/model-gradients.js';
export { fit, type FitOptions, type FitResult, type FitStop } from './training/fit.js';
export {
  DEFAULT_MAX_PARAMETERS,
  decodeCheckpoint,
  encodeCheckpoint,
  restoreCheckpoint,
  type CheckpointHeader,
  type ReadHeaderOptions,
  type RestoredCheckpoint,
  type RestoreOptions,
} from './checkpoint/format.js';
