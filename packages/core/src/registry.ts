import { expectedParameterShapes } from './checkpoint/expected-shapes.js';
import { coreComponents } from './components/core-components.js';
import { ConfigError } from './errors.js';
import type { ProbUNetModelConfig } from './model/config.js';
import { createProbUNet } from './model/create.js';
import { registryFromPlugins, type ParameterShapes, type ProbUNetPlugin, type Registry } from './plugin-registry.js';

export {
  componentFactory,
  type ComponentFactory,
  type ModelFactory,
  type ParameterShapes,
  type ParameterShapesFactory,
  type ProbUNetPlugin,
  type Registry,
} from './plugin-registry.js';

/**
 * The core plugin: the components `unet`, `conv-gaussian`, `tile-concat-1x1`, and the model
 * `prob-unet`, registered like any other model (a config in the short form
 * `{ type: 'prob-unet', inputChannels, numClasses, … }` or what `ProbUNet.getConfig()` returns).
 */
export const corePlugin: ProbUNetPlugin = {
  ...coreComponents,
  models: {
    'prob-unet': (config, registry) => {
      const { type: _type, ...rest } = config as ProbUNetModelConfig & { type: string };
      return createProbUNet(rest, { registry });
    },
  },
  parameterShapes: { 'prob-unet': (config) => probUNetShapes(config as unknown as Record<string, unknown>) },
};

/**
 * Builds a registry from plugins, in order; by default the core plugin alone. Two plugins that
 * register the same `type` in the same slot are an error: pick one, or give your component another
 * type name. E.g. `createRegistry([corePlugin, baselinesPlugin])` builds all six model types.
 */
export function createRegistry(plugins: readonly ProbUNetPlugin[] = [corePlugin]): Registry {
  return registryFromPlugins(plugins);
}

/**
 * The explicit form (what `getConfig()` writes into checkpoints) names each part by a component
 * config with a `type`; the short form has no parts to check, its shapes come out when built.
 */
function probUNetShapes(config: Record<string, unknown>): ParameterShapes {
  if (config.format !== 'probunet-model' && !('encoder' in config)) return new Map();
  for (const part of ['encoder', 'prior', 'posterior', 'fusion']) {
    const c = config[part];
    if (typeof c !== 'object' || c === null || typeof (c as { type?: unknown }).type !== 'string') {
      throw new ConfigError(`"model.${part}" must be a component config with a string "type"`);
    }
  }
  return expectedParameterShapes(config as unknown as ProbUNetModelConfig);
}
