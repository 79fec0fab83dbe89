import {
  ConfigError,
  corePlugin,
  createRegistry,
  modelTypeOf,
  type CheckpointableModel,
  type ModelConfig,
  type ProbUNet,
  type ProbUNetConfig,
  type ProbUNetModelConfig,
  type ProbUNetPlugin,
  type Registry,
} from '@probunet/core';
import { assertBackendReady } from '@probunet/core/internal';
import { DeterministicUNet, type DeterministicUNetConfig } from './deterministic-unet.js';
import { DropoutUNet, type DropoutUNetConfig } from './dropout-unet.js';
import { Image2ImageVAE, type Image2ImageVAEConfig } from './image2image-vae.js';
import { MHeads, type MHeadsConfig } from './m-heads.js';
import { SHORT_FORM_KEYS, checkKnownKeys, resolveUNetOptions, type UNetShortForm } from './model-options.js';
import { UNetEnsemble, type UNetEnsembleConfig } from './unet-ensemble.js';

/** The six model types `createModel` builds, in the paper's order. */
export const MODEL_TYPES = ['prob-unet', 'deterministic-unet', 'dropout-unet', 'unet-ensemble', 'm-heads', 'image2image-vae'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** The deterministic U-Net's short form: a U-Net encoder from the shared options. */
export interface DeterministicUNetShortForm extends UNetShortForm {
  type?: 'deterministic-unet';
}

/** What `createModel` accepts per type (each type's short form; the deterministic U-Net also its `encoder` form). */
export interface ModelConfigByType {
  'prob-unet': ProbUNetConfig & { type: 'prob-unet' };
  'deterministic-unet': (DeterministicUNetShortForm | DeterministicUNetConfig) & { type: 'deterministic-unet' };
  'dropout-unet': DropoutUNetConfig & { type: 'dropout-unet' };
  'unet-ensemble': UNetEnsembleConfig & { type: 'unet-ensemble' };
  'm-heads': MHeadsConfig & { type: 'm-heads' };
  'image2image-vae': Image2ImageVAEConfig & { type: 'image2image-vae' };
}

export interface ModelByType {
  'prob-unet': ProbUNet;
  'deterministic-unet': DeterministicUNet;
  'dropout-unet': DropoutUNet;
  'unet-ensemble': UNetEnsemble;
  'm-heads': MHeads;
  'image2image-vae': Image2ImageVAE;
}

function deterministicUNet(config: DeterministicUNetShortForm | DeterministicUNetConfig, registry: Registry): DeterministicUNet {
  const type = 'deterministic-unet';
  if ('encoder' in config) {
    checkKnownKeys(type, config, ['type', 'encoder', 'numClasses', 'ignoreLabel', 'seed']);
    return new DeterministicUNet(config, registry);
  }
  checkKnownKeys(type, config, SHORT_FORM_KEYS);
  const { inputChannels, channels, convsPerBlock, seed, numClasses, ignoreLabel } = resolveUNetOptions(type, config);
  return new DeterministicUNet({ encoder: { type: 'unet', inputChannels, channels, convsPerBlock, seed }, numClasses, ignoreLabel, seed }, registry);
}

/**
 * The five baselines as registry model factories, so that `restoreCheckpoint` / `loadCheckpoint`
 * rebuild them: `createRegistry([corePlugin, baselinesPlugin])`.
 */
export const baselinesPlugin: ProbUNetPlugin = {
  name: '@probunet/baselines',
  models: {
    'deterministic-unet': (c, registry) => deterministicUNet(c as DeterministicUNetConfig, registry),
    'dropout-unet': (c) => new DropoutUNet(c as DropoutUNetConfig),
    'unet-ensemble': (c) => new UNetEnsemble(c as UNetEnsembleConfig),
    'm-heads': (c) => new MHeads(c as MHeadsConfig),
    'image2image-vae': (c) => new Image2ImageVAE(c as Image2ImageVAEConfig),
  },
};

/**
 * Builds any of the six models from JSON with a `type` (see `MODEL_TYPES`): the short form
 * `{ type, inputChannels, numClasses, channels?, convsPerBlock?, seed? }` plus the type's own options,
 * or what `model.getConfig()` returned. `registry` resolves components and model types; default
 * `createRegistry([corePlugin, baselinesPlugin])`. A bad option throws a ConfigError naming it.
 */
export function createModel<T extends ModelType>(config: ModelConfigByType[T], registry?: Registry): ModelByType[T];
export function createModel(config: ProbUNetModelConfig, registry?: Registry): ProbUNet;
export function createModel(config: ModelConfig, registry?: Registry): CheckpointableModel;
export function createModel(config: ModelConfig | ModelConfigByType[ModelType], registry: Registry = createRegistry([corePlugin, baselinesPlugin])): CheckpointableModel {
  assertBackendReady('createModel');
  const type = modelTypeOf(config);
  if (type === undefined) {
    throw new ConfigError(`a model config needs a "type": one of ${MODEL_TYPES.join(', ')}; got ${JSON.stringify(config)}`);
  }
  // One door: the Prob. U-Net is the core plugin's `prob-unet` model, built like the baselines.
  return registry.createModel({ ...config, type });
}
