import type { SegmentationSampler } from '../spec/components.js';
import type { TrainableModel } from '../spec/trainable-model.js';
import type { ProbUNetModelConfig } from './config.js';

/** The config of a model other than the Prob. U-Net: `type` names its factory in a registry plugin. */
export interface TypedModelConfig {
  readonly type: string;
}

/**
 * What `model.getConfig()` of any whole model returns: JSON that rebuilds it. A Prob. U-Net config is
 * recognised by its `format: 'probunet-model'` (with or without `type: 'prob-unet'`).
 */
export type ModelConfig = TypedModelConfig | ProbUNetModelConfig;

/**
 * A whole model that checkpoints save and rebuild, the Trainer trains and evaluation samples: the
 * Prob. U-Net and every baseline. `kind` is its registry type; `parameters()` names every weight.
 */
export interface CheckpointableModel extends SegmentationSampler, TrainableModel {
  /** The model type: `prob-unet`, or the type a registry plugin builds it under. */
  readonly kind: string;
  getConfig(): ModelConfig;
}

/** The model type a config describes: its `type`, or `prob-unet` for a Prob. U-Net config; undefined if neither. */
export function modelTypeOf(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const { type, format } = config as { type?: unknown; format?: unknown };
  if (typeof type === 'string') return type;
  return format === 'probunet-model' ? 'prob-unet' : undefined;
}
