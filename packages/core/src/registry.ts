import { ConvGaussian } from './components/conv-gaussian.js';
import { TileConcatFusion } from './components/fusion-head.js';
import type { ComponentConfig, Encoder, FusionHead, LatentNet } from './components/types.js';
import { UNetEncoder } from './components/unet-encoder.js';
import { ConfigError } from './errors.js';

export type ComponentFactory<T> = (config: ComponentConfig) => T;

/** A named bundle of component factories, keyed by the `type` their configs carry. */
export interface ProbUNetPlugin {
  readonly name: string;
  readonly encoders?: Readonly<Record<string, ComponentFactory<Encoder>>>;
  readonly latentNets?: Readonly<Record<string, ComponentFactory<LatentNet>>>;
  readonly fusionHeads?: Readonly<Record<string, ComponentFactory<FusionHead>>>;
}

type Slot = 'encoders' | 'latentNets' | 'fusionHeads';
const SLOT_NOUN: Record<Slot, string> = { encoders: 'encoder', latentNets: 'latent net', fusionHeads: 'fusion head' };

/** Resolves component configs to components; built once from an explicit plugin list. */
export interface Registry {
  readonly plugins: readonly string[];
  createEncoder(config: ComponentConfig): Encoder;
  createLatentNet(config: ComponentConfig): LatentNet;
  createFusionHead(config: ComponentConfig): FusionHead;
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
  const tables: Record<Slot, Map<string, { plugin: string; factory: ComponentFactory<unknown> }>> = {
    encoders: new Map(),
    latentNets: new Map(),
    fusionHeads: new Map(),
  };
  const names = new Set<string>();
  for (const plugin of plugins) {
    if (names.has(plugin.name)) throw new ConfigError(`plugin "${plugin.name}" is listed twice in createRegistry`);
    names.add(plugin.name);
    for (const slot of Object.keys(tables) as Slot[]) {
      for (const [type, factory] of Object.entries(plugin[slot] ?? {})) {
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
  function create<T>(slot: Slot, config: ComponentConfig): T {
    if (!config || typeof config.type !== 'string') {
      throw new ConfigError(`a ${SLOT_NOUN[slot]} config needs a string "type", got ${JSON.stringify(config)}`);
    }
    const entry = tables[slot].get(config.type);
    if (!entry) {
      const known = [...tables[slot].keys()].join(', ') || '(none)';
      throw new ConfigError(
        `unknown ${SLOT_NOUN[slot]} type "${config.type}"; registered: ${known}. Register the plugin that provides it in createRegistry([...])`,
      );
    }
    return entry.factory(config) as T;
  }
  return {
    plugins: [...names],
    createEncoder: (c) => create<Encoder>('encoders', c),
    createLatentNet: (c) => create<LatentNet>('latentNets', c),
    createFusionHead: (c) => create<FusionHead>('fusionHeads', c),
    types: () => ({
      encoders: [...tables.encoders.keys()],
      latentNets: [...tables.latentNets.keys()],
      fusionHeads: [...tables.fusionHeads.keys()],
    }),
  };
}
