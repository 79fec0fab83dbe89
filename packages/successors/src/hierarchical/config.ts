import { AUTHORS_DEFAULTS, ConfigError } from '@probunet/core';
import { SHORT_FORM_KEYS, checkKnownKeys, finiteAtLeast, resolveUNetOptions, type UNetOptions, type UNetShortForm } from '@probunet/baselines';

export const HIERARCHICAL_TYPE = 'hierarchical-prob-unet';

/** How the model is trained: the plain ELBO, or GECO (Rezende & Viola 2018) as the HPU-Net paper trains it. */
export type HierarchicalObjective = 'elbo' | 'geco';

/**
 * Defaults, each with its source. `dm` = the authors' code, deepmind-research
 * hierarchical_probabilistic_unet/model.py (HierarchicalProbUNet.__init__, its LIDC defaults).
 */
export const HIERARCHICAL_DEFAULTS = {
  /** Three scalar (1-channel) per-pixel latent levels at the three coarsest decoder scales. dm uses 1-channel latents at four scales of an 8-level U-Net on 128 px; three fit this package's 4-level LIDC U-Net (bench/lidc-config.ts). */
  latentDims: [1, 1, 1],
  /** The plain ELBO: the Prob. U-Net's objective, so a comparison changes one thing at a time; dm defaults to 'geco'. */
  objective: 'elbo',
  /** Weight of Σ_l KL_l under the ELBO: 1, the Prob. U-Net's default (AUTHORS_DEFAULTS.beta); dm's ELBO takes beta from its loss_kwargs. */
  beta: AUTHORS_DEFAULTS.beta,
  /** GECO's reconstruction target in nats per valid pixel: dm's kappa 0.05. */
  gecoKappa: 0.05,
  /** GECO's Lagrange-multiplier gradient scale: dm's rate 1e-2 (snt.get_lagrange_multiplier, initial value 1). */
  gecoRate: 1e-2,
  /** Soft bound on every latent level's log σ (core's ConvGaussian default); dm leaves log σ unbounded. */
  logSigmaBound: AUTHORS_DEFAULTS.logSigmaBound,
  /** Off: every valid pixel counts, as for the Prob. U-Net. dm: 0.02 (`top_k_percentage`, Gumbel-sampled). */
  topKPercentage: null,
} as const;

export interface HierarchicalProbUNetConfig extends UNetShortForm {
  type?: typeof HIERARCHICAL_TYPE;
  /** Latent channels per level, coarsest level first; one level per decoder scale from the coarsest up. Default [1, 1, 1]. */
  latentDims?: number[];
  /** Default 'elbo'. */
  objective?: HierarchicalObjective;
  /** ELBO only: weight of Σ_l KL_l. Default 1. */
  beta?: number;
  /** GECO only: the reconstruction constraint's target, nats per valid pixel. Default 0.05. */
  gecoKappa?: number;
  /** GECO only: scale of the Lagrange multiplier's (ascent) gradient. Default 1e-2. */
  gecoRate?: number;
  /** Soft bound b on log σ of every level: log σ = b·tanh(raw / b). Default 5. */
  logSigmaBound?: number;
  /**
   * The HPU-Net's top-k loss masking: only this share (0, 1] of the batch's pixels enters the
   * reconstruction term, drawn without replacement with probability ∝ their cross-entropy (Gumbel
   * top-k). Default null (off).
   */
  topKPercentage?: number | null;
}

/** What `getConfig()` returns: every option filled in. */
export interface HierarchicalProbUNetModelConfig extends UNetOptions {
  type: typeof HIERARCHICAL_TYPE;
  latentDims: number[];
  objective: HierarchicalObjective;
  beta: number;
  gecoKappa: number;
  gecoRate: number;
  logSigmaBound: number;
  topKPercentage: number | null;
}

export const HIERARCHICAL_KEYS = [...SHORT_FORM_KEYS, 'latentDims', 'objective', 'beta', 'gecoKappa', 'gecoRate', 'logSigmaBound', 'topKPercentage'] as const;

/** Validates a short-form or full config and fills in every default; a bad option throws a ConfigError naming it and a fix. */
export function resolveHierarchicalConfig(config: HierarchicalProbUNetConfig): HierarchicalProbUNetModelConfig {
  const type = HIERARCHICAL_TYPE;
  if (typeof config !== 'object' || config === null) throw new ConfigError(`${type}: the config must be an object, got ${JSON.stringify(config)}`);
  checkKnownKeys(type, config, HIERARCHICAL_KEYS);
  if (config.type !== undefined && config.type !== type) throw new ConfigError(`${type}: type must be "${type}", got ${JSON.stringify(config.type)}`);
  const unet = resolveUNetOptions(type, config);
  const latentDims = config.latentDims ?? [...HIERARCHICAL_DEFAULTS.latentDims];
  if (!Array.isArray(latentDims) || latentDims.length === 0 || !latentDims.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ConfigError(`${type}: latentDims must be a non-empty list of positive integers (latent channels per level, coarsest first), got ${JSON.stringify(latentDims)}: e.g. latentDims: [1, 1, 1]`);
  }
  const scales = unet.channels.length - 1;
  if (latentDims.length > scales) {
    throw new ConfigError(
      `${type}: latentDims has ${latentDims.length} levels but channels ${JSON.stringify(unet.channels)} give ${scales} decoder scale(s) below the finest: ` +
        `use at most ${scales} latent level(s), or add a level to channels`,
    );
  }
  const objective = config.objective ?? HIERARCHICAL_DEFAULTS.objective;
  if (objective !== 'elbo' && objective !== 'geco') {
    throw new ConfigError(`${type}: objective must be "elbo" or "geco", got ${JSON.stringify(objective)}: e.g. objective: "geco"`);
  }
  const logSigmaBound = finiteAtLeast(type, 'logSigmaBound', config.logSigmaBound ?? HIERARCHICAL_DEFAULTS.logSigmaBound, 0, 5);
  if (logSigmaBound === 0) throw new ConfigError(`${type}: logSigmaBound must be > 0, got 0: e.g. logSigmaBound: 5`);
  const gecoRate = finiteAtLeast(type, 'gecoRate', config.gecoRate ?? HIERARCHICAL_DEFAULTS.gecoRate, 0, 0.01);
  if (gecoRate === 0) throw new ConfigError(`${type}: gecoRate must be > 0 (0 would freeze the Lagrange multiplier), got 0: e.g. gecoRate: 0.01`);
  const topKPercentage = config.topKPercentage ?? HIERARCHICAL_DEFAULTS.topKPercentage;
  if (topKPercentage !== null && (typeof topKPercentage !== 'number' || !(topKPercentage > 0 && topKPercentage <= 1))) {
    throw new ConfigError(`${type}: topKPercentage must be null (off) or a share of pixels in (0, 1], got ${JSON.stringify(topKPercentage)}: e.g. topKPercentage: 0.02`);
  }
  return {
    type,
    ...unet,
    latentDims: [...latentDims],
    objective,
    beta: finiteAtLeast(type, 'beta', config.beta ?? HIERARCHICAL_DEFAULTS.beta, 0, 1),
    gecoKappa: finiteAtLeast(type, 'gecoKappa', config.gecoKappa ?? HIERARCHICAL_DEFAULTS.gecoKappa, 0, 0.05),
    gecoRate,
    logSigmaBound,
    topKPercentage,
  };
}
