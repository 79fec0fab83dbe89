import type { ComponentConfig, Encoder, FusionHead, LatentNet } from './spec/components.js';
import { ConfigError } from './errors.js';
import { modelTypeOf, type CheckpointableModel, type ModelConfig } from './model/checkpointable.js';

export type ComponentFactory<T> = (config: ComponentConfig) => T;

/**
 * A typed factory for the registry: `build` receives the component's own config type. Configs come
 * from JSON, so the one narrowing from ComponentConfig to `C` happens here: the type name is checked,
 * and every field is validated by the component itself (its constructor throws ConfigError naming the
 * field), where it is defined.
 */
export function componentFactory<C extends ComponentConfig, T>(type: C['type'], build: (config: C) => T): ComponentFactory<T> {
  return (config) => {
    if (config.type !== type) throw new ConfigError(`a factory for "${type}" was given a "${config.type}" config`);
    return build(config as C);
  };
}

/**
 * Builds a whole model (the Prob. U-Net, a baseline) from its config; `registry` resolves the
 * model's components. The config carries `type` (a Prob. U-Net config from before `type` was
 * written may have only `format: 'probunet-model'`: it arrives with `type: 'prob-unet'` added).
 */
export type ModelFactory = (config: ModelConfig & { readonly type: string }, registry: Registry) => CheckpointableModel;

/**
 * The parameter shapes a model config will allocate, computed without allocating anything, so a
 * checkpoint whose header disagrees with its own tensors is refused before any model is built. Per
 * name prefix (`unet`, `prior`, …: every parameter under `<prefix>/` belongs to it), the shapes by
 * parameter name, or null where the factory cannot tell (a plugin's component: building it checks).
 * Throws ConfigError for a config too malformed to read.
 */
export type ParameterShapes = ReadonlyMap<string, ReadonlyMap<string, readonly number[]> | null>;
export type ParameterShapesFactory = (config: ModelConfig & { readonly type: string }) => ParameterShapes;

/** A named bundle of component factories, keyed by the `type` their configs carry. */
export interface ProbUNetPlugin {
  readonly name: string;
  readonly encoders?: Readonly<Record<string, ComponentFactory<Encoder>>>;
  readonly latentNets?: Readonly<Record<string, ComponentFactory<LatentNet>>>;
  readonly fusionHeads?: Readonly<Record<string, ComponentFactory<FusionHead>>>;
  /** Whole models by `type` (checkpoints rebuild them through these); the core plugin's is `prob-unet`. */
  readonly models?: Readonly<Record<string, ModelFactory>>;
  /** Optional, per model `type`: its parameter shapes from its config (see ParameterShapes). */
  readonly parameterShapes?: Readonly<Record<string, ParameterShapesFactory>>;
}

type Slot = 'encoders' | 'latentNets' | 'fusionHeads' | 'models';
const SLOT_NOUN: Record<Slot, string> = { encoders: 'encoder', latentNets: 'latent net', fusionHeads: 'fusion head', models: 'model' };

/** Resolves component configs to components; built once from an explicit plugin list. */
export interface Registry {
  readonly plugins: readonly string[];
  createEncoder(config: ComponentConfig): Encoder;
  createLatentNet(config: ComponentConfig): LatentNet;
  createFusionHead(config: ComponentConfig): FusionHead;
  /** Builds a whole model of any registered type (`prob-unet` with the core plugin, the baselines with theirs). */
  createModel(config: ModelConfig): CheckpointableModel;
  /** The parameter shapes of a model config, when its plugin declares them (see ParameterShapes). */
  expectedParameterShapes(config: ModelConfig): ParameterShapes | undefined;
  /** The registered `type` names per slot. */
  types(): Record<Slot, string[]>;
}

/**
 * Builds a registry from plugins, in order (`createRegistry` in registry.ts is the public form,
 * with the core plugin by default). Two plugins that register the same `type` in the same slot are
 * an error: pick one, or give your component another type name.
 */
export function registryFromPlugins(plugins: readonly ProbUNetPlugin[]): Registry {
  const tables: Record<Slot, Map<string, { plugin: string; factory: (config: never, registry: Registry) => unknown }>> = {
    encoders: new Map(),
    latentNets: new Map(),
    fusionHeads: new Map(),
    models: new Map(),
  };
  const shapeTables = new Map<string, ParameterShapesFactory>();
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
    for (const [type, shapes] of Object.entries(plugin.parameterShapes ?? {})) shapeTables.set(type, shapes);
  }
  function create<T>(slot: Slot, config: ComponentConfig | (ModelConfig & { type: string })): T {
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
    createModel: (c) => create<CheckpointableModel>('models', withType(c)),
    expectedParameterShapes: (c) => {
      const typed = withType(c);
      return shapeTables.get(typed.type)?.(typed);
    },
    types: () => ({
      encoders: [...tables.encoders.keys()],
      latentNets: [...tables.latentNets.keys()],
      fusionHeads: [...tables.fusionHeads.keys()],
      models: [...tables.models.keys()],
    }),
  };
  return registry;
}

/** The config with its `type` spelled out (an old Prob. U-Net config has only its `format`). */
function withType(config: ModelConfig): ModelConfig & { type: string } {
  const type = modelTypeOf(config);
  if (type === undefined) {
    throw new ConfigError(`a model config needs a string "type" (e.g. "prob-unet"), got ${JSON.stringify(config)}`);
  }
  return { ...config, type };
}
