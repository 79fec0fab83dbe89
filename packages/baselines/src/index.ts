export { DeterministicUNet, type DeterministicUNetConfig, type DeterministicUNetModelConfig } from './deterministic-unet.js';
export { DropoutUNet, type DropoutUNetConfig, type DropoutUNetModelConfig } from './dropout-unet.js';
export { UNetEnsemble, type UNetEnsembleConfig, type UNetEnsembleModelConfig } from './unet-ensemble.js';
export { MHeads, type MHeadsConfig, type MHeadsModelConfig } from './m-heads.js';
export { Image2ImageVAE, type Image2ImageVAEConfig, type Image2ImageVAEModelConfig } from './image2image-vae.js';
export {
  SHORT_FORM_KEYS,
  checkKnownKeys,
  finiteAtLeast,
  positiveInteger,
  resolveUNetOptions,
  type UNetOptions,
  type UNetShortForm,
} from './model-options.js';
export {
  MODEL_TYPES,
  baselinesPlugin,
  createModel,
  type DeterministicUNetShortForm,
  type ModelByType,
  type ModelConfigByType,
  type ModelType,
} from './create-model.js';
