import type { ModelConfig, ParameterShapes } from '@probunet/core';
import { resolveHierarchicalConfig, type HierarchicalProbUNetConfig } from './config.js';
import { hierarchicalCoreShapes } from './hierarchical-core.js';

/**
 * The parameter shapes a `hierarchical-prob-unet` config allocates, by checkpoint name and prefix
 * (`prior`, `posterior`, `logits`, `geco`), computed without allocating: a checkpoint whose header
 * disagrees with its tensors is refused before the model is built. A bad config throws ConfigError.
 */
export function hierarchicalParameterShapes(config: ModelConfig): ParameterShapes {
  const c = resolveHierarchicalConfig(config as HierarchicalProbUNetConfig);
  const core = { channels: c.channels, convsPerBlock: c.convsPerBlock, latentDims: c.latentDims };
  const prefixed = (prefix: string, shapes: Map<string, number[]>) => new Map([...shapes].map(([name, shape]) => [`${prefix}/${name}`, shape]));
  const parts = new Map<string, ReadonlyMap<string, readonly number[]>>([
    ['prior', prefixed('prior', hierarchicalCoreShapes({ ...core, inputChannels: c.inputChannels, decoder: 'full' }))],
    ['posterior', prefixed('posterior', hierarchicalCoreShapes({ ...core, inputChannels: c.inputChannels + c.numClasses, decoder: 'latents' }))],
    ['logits', new Map([['logits/kernel', [1, 1, c.channels[0]!, c.numClasses]], ['logits/bias', [c.numClasses]]])],
  ]);
  if (c.objective === 'geco') parts.set('geco', new Map([['geco/lagrangeMultiplier', []]]));
  return parts;
}
