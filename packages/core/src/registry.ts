import { ConvGaussian } from './components/conv-gaussian.js';
import { TileConcatFusion } from './components/fusion-head.js';
import type { ComponentConfig, Encoder, FusionHead, LatentNet } from './spec/components.js';
import { UNetEncoder } from './components/unet-encoder.js';
import { ConfigError } from './errors.js';
import type { CheckpointableModel, TypedModelConfig } from './model/checkpointable.js';

export type ComponentFactory<T> = (config: ComponentConfig) => T;

/** Builds a whole model (a baseline, say) from its config; `registry` resolves the model's components. */
export type ModelFactory = (config: TypedModelConfig, registry: Registry) => CheckpointableModel;

/** A named bundle of component factories, keyed by the `type` their configs carry. */
export interface ProbUNetPlugin {
  readonly name: string;
  readonly encoders?: Readonly<Record<string, ComponentFactory<Encoder>>>;
  readonly latentNets?: Readonly<Record<string, ComponentFactory<LatentNet>>>;
  readonly fusionHeads?: Readonly<Record<string, ComponentFactory<FusionHead>>>;
  /** Whole models by `type` (checkpoints rebuild them through these). `prob-unet` is built in. */
  readonly models?: Readonly<Record<string, ModelFactory>>;
}

type Slot = 'encoders' | 'latentNets' | 'fusionHeads' | 'models';
const SLOT_NOUN: Record<Slot, string> = { encoders: 'encoder', latentNets: 'latent net', fusionHeads: 'fusion head', models: 'model' };

/** Resolves component configs to components; built once from an explicit plugin list. */
export interface Registry {
  readonly plugins: readonly string[];
  createEncoder(config: ComponentConfig): Encoder;
  createLatentNet(config: ComponentConfig): LatentNet;
  createFusionHead(config: ComponentConfig): FusionHead;
  /** Builds a model registered by a plugin (not `prob-unet`: `createProbUNet` builds that one). */
  createModel(config: TypedModelConfig): CheckpointableModel;
  /** The registered `type` names per slot. */
  types(): Record<Slot, string[]>;
}

/** The built-in components: `unet`, `conv-gaussian`, `tile-concat-1x1`. */
export const corePlugin: ProbUNetPlugin = {
  name: '@probunet/core',
  encoders: { unet: (c) => new UNetEncoder(c as never) },
  latentNets: { 'conv-gaussian': (c) => new ConvGaussian(c as never) },
  fusionHeads: { 'tile-concat-1x1': (c) => new TileConcatFusion(c as never) },
};

/**
 * Builds a registry from plugins, in order. Two plugins that register the same `type` in the same
 * slot are an error: pick one, or give your component another type name.
 */
export function createRegistry(plugins: readonly ProbUNetPlugin[] = [corePlugin]): Registry {
  const tables: Record<Slot, Map<string, { plugin: string; factory: (config: never, registry: Registry) => unknown }>> = {
    encoders: new Map(),
    latentNets: new Map(),
    fusionHeads: new Map(),
    models: new Map(),
  };
  const names = new Set<string>();
  for (const plugin of plugins) {
    if (names.has(plugin.name)) throw new ConfigError(`plugin "${plugin.name}" is listed twice in createRegistry`);
    names.add(plugin.name);
    for (const slot of Object.keys(tables) as Slot[]) {
      for (const [type, factory] of Object.entries(plugin[slot] ?? {})) {
        if (slot === 'models' && type === 'prob-unet') {
          throw new ConfigError(`plugin "${plugin.name}" registers a model type "prob-unet", which is built in: give its model another type name`);
        }
        const existing = tables[slot].get(type);
        if (existing) {
          throw new ConfigError(
            `${SLOT_NOUN[slot]} type "${type}" is registered by both "${existing.plugin}" and "${plugin.name}": ` +
              'give one of them another type name',
          );
        }
        tables[slot].set(type, { plugin: plugin.name, factory });
      }
    }
  }
  function create<T>(slot: Slot, config: ComponentConfig | TypedModelConfig): T {
    if (!config || typeof config.type !== 'string') {
      throw new ConfigError(`a ${SLOT_NOUN[slot]} config needs a string "type", got ${JSON.stringify(config)}`);
    }
    const entry = tables[slot].get(config.type);
    if (!entry) {
      const known = [...tables[slot].keys()].join(', ') || '(none)';
      throw new ConfigError(
        `unknown ${SLOT_NOUN[slot]} type "${config.type}"; registered: ${known}. Register the plugin that provides it in createRegistry([...])` +
          (slot === 'models' ? ', e.g. createRegistry([corePlugin, baselinesPlugin]) with baselinesPlugin from @probunet/baselines' : ''),
      );
    }
    return entry.factory(config as never, registry) as T;
  }
  const registry: Registry = {
    plugins: [...names],
    createEncoder: (c) => create<Encoder>('encoders', c),
    createLatentNet: (c) => create<LatentNet>('latentNets', c),
    createFusionHead: (c) => create<FusionHead>('fusionHeads', c),
    createModel: (c) => create<CheckpointableModel>('models', c),
    types: () => ({
      encoders: [...tables.encoders.keys()],
      latentNets: [...tables.latentNets.keys()],
      fusionHeads: [...tables.fusionHeads.keys()],
      models: [...tables.models.keys()],
    }),
  };
  return registry;
}
