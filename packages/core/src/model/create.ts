import type { ComponentConfig, Encoder, FusionHead, LatentNet } from '../spec/components.js';
import { ConfigError } from '../errors.js';
import { coreComponents } from '../components/core-components.js';
import { registryFromPlugins, type Registry } from '../plugin-registry.js';
import { expandConfig, type ProbUNetConfig, type ProbUNetModelConfig, type ProbUNetParts, DEFAULT_IGNORE_LABEL, AUTHORS_DEFAULTS } from './config.js';
import { ProbUNet } from './prob-unet.js';
import { assertBackendReady } from '../backend-ready.js';

export interface CreateOptions {
  /** Resolves component configs by `type`; default: the core components only. */
  registry?: Registry;
}

function isComponent(x: unknown): x is { kind: string } {
  return typeof x === 'object' && x !== null && typeof (x as { kind?: unknown }).kind === 'string';
}

/**
 * Builds a Probabilistic U-Net from
 * - the short form `{ inputChannels, numClasses, channels?, convsPerBlock?, latentDim?, num1x1Convs?, beta? }`
 *   (defaults: the authors' code), or
 * - explicit parts `{ encoder, prior, posterior, fusion }`, each a component instance or a JSON config
 *   resolved through `options.registry` (this is also what `model.getConfig()` returns).
 * The parts are checked against each other; a mismatch throws a ConfigError saying how to fix it.
 * This is the short form of `createRegistry().createModel({ type: 'prob-unet', … })`, which the
 * core plugin's `prob-unet` factory answers by calling this.
 */
export function createProbUNet(config: ProbUNetConfig | ProbUNetParts | ProbUNetModelConfig, options: CreateOptions = {}): ProbUNet {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError(`createProbUNet needs a config object ({ inputChannels, numClasses, … } or { encoder, prior, posterior, fusion }), got ${String(config)}`);
  }
  assertBackendReady('createProbUNet');
  const registry = options.registry ?? registryFromPlugins([coreComponents]);
  const parts: ProbUNetParts = 'encoder' in config ? config : expandConfig(checkShortConfig(config));
  const built: Array<{ dispose(): void }> = [];
  const resolve = <T extends { dispose(): void }>(part: T | ComponentConfig, kind: string, make: (c: ComponentConfig) => T): T => {
    if (isComponent(part)) {
      if (part.kind !== kind) throw new ConfigError(`expected a ${kind} here, got a ${part.kind}`);
      return part as T;
    }
    const made = make(part as ComponentConfig);
    built.push(made);
    return made;
  };
  try {
    const encoder = resolve<Encoder>(parts.encoder as Encoder | ComponentConfig, 'encoder', (c) => registry.createEncoder(c));
    const prior = resolve<LatentNet>(parts.prior as LatentNet | ComponentConfig, 'latent-net', (c) => registry.createLatentNet(c));
    const posterior = resolve<LatentNet>(parts.posterior as LatentNet | ComponentConfig, 'latent-net', (c) => registry.createLatentNet(c));
    const fusion = resolve<FusionHead>(parts.fusion as FusionHead | ComponentConfig, 'fusion-head', (c) => registry.createFusionHead(c));
    if (prior === posterior) throw new ConfigError('prior and posterior must be two separate latent nets (they share no weights)');
    const beta = parts.beta ?? AUTHORS_DEFAULTS.beta;
    if (!(beta >= 0) || !Number.isFinite(beta)) throw new ConfigError(`beta must be a finite number ≥ 0, got ${beta}`);
    const ignoreLabel = checkIgnoreLabel(parts.ignoreLabel ?? DEFAULT_IGNORE_LABEL, fusion.numClasses);
    return new ProbUNet(encoder, prior, posterior, fusion, { beta, ignoreLabel });
  } catch (err) {
    // Free what this call built; instances the caller passed stay theirs.
    for (const part of built) part.dispose();
    throw err;
  }
}

function checkShortConfig(config: ProbUNetConfig): ProbUNetConfig {
  for (const key of ['inputChannels', 'numClasses'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${key} is required and must be a positive integer, got ${String(v)}`);
  }
  if (config.numClasses < 2) throw new ConfigError(`numClasses must be ≥ 2 (a binary mask is 2 classes), got ${config.numClasses}`);
  checkIgnoreLabel(config.ignoreLabel ?? DEFAULT_IGNORE_LABEL, config.numClasses);
  return config;
}

/** Labels are int32: the ignore label must be an integer outside the class indices. */
function checkIgnoreLabel(ignore: number, numClasses: number): number {
  if (typeof ignore !== 'number' || !Number.isInteger(ignore)) {
    throw new ConfigError(`ignoreLabel must be an integer (labels are int32), got ${String(ignore)}: the default is ${DEFAULT_IGNORE_LABEL}`);
  }
  if (ignore >= 0 && ignore < numClasses) {
    throw new ConfigError(`ignoreLabel ${ignore} collides with a class index (0..${numClasses - 1}): pick a value outside that range, e.g. 255`);
  }
  return ignore;
}
