import { ConfigError } from '@probunet/core';
import { SHORT_FORM_KEYS, checkKnownKeys, finiteAtLeast, positiveInteger, resolveUNetOptions, type UNetOptions, type UNetShortForm } from '@probunet/baselines';

/**
 * The SSN's own options and their defaults, each from the authors' code
 * (github.com/biomedia-mira/stochastic_segmentation_networks, files named per option).
 */
export const SSN_DEFAULTS = {
  /** `StochasticDeepMedic(rank=10)`, ssn/models/stochastic_deepmedic.py; config rank_10_mc_20_patch_110.json. */
  rank: 10,
  /** `"num_mc_samples": 20` of StochasticSegmentationNetworkLossMCIntegral, assets/config_files/rank_10_mc_20_patch_110.json. */
  mcSamples: 20,
  /** `fixed_re_parametrization_trick`, ssn/trainer/losses.py: M/2 draws and their mirror images about the mean. */
  antithetic: true,
  /** `epsilon=1e-5` added to exp(log-diagonal), ssn/models/stochastic_deepmedic.py. */
  diagonalEpsilon: 1e-5,
  /** `epsilon = 1e-3` added to the diagonal by the evaluation's LowRankMultivariateNormalRandomSampler, evaluation/running_metrics/samplers.py. */
  sampleDiagonalEpsilon: 1e-3,
} as const;

export interface SSNConfig extends UNetShortForm {
  type?: 'ssn';
  /** Rank r of the covariance factor P (logits' covariance PPᵀ + diag(D)). Default 10. */
  rank?: number;
  /** Monte-Carlo samples M of the training loss; even when `antithetic`. Default 20. */
  mcSamples?: number;
  /** Draw M/2 deviations and use each with both signs (the authors' loss). Default true. */
  antithetic?: boolean;
  /** Added to exp(log-diagonal) so the diagonal stays positive. Default 1e-5. */
  diagonalEpsilon?: number;
  /** Added to the diagonal again when sampling segmentations (the authors' evaluation). Default 1e-3. */
  sampleDiagonalEpsilon?: number;
}

/** What `getConfig()` returns: every option filled in. */
export interface SSNModelConfig extends UNetOptions {
  type: 'ssn';
  rank: number;
  mcSamples: number;
  antithetic: boolean;
  diagonalEpsilon: number;
  sampleDiagonalEpsilon: number;
}

export const SSN_KEYS = [...SHORT_FORM_KEYS, 'rank', 'mcSamples', 'antithetic', 'diagonalEpsilon', 'sampleDiagonalEpsilon'] as const;

/** Validates an SSN config (short form or `getConfig()` output) and fills in the defaults; throws ConfigError naming the option. */
export function resolveSSNConfig(config: SSNConfig): SSNModelConfig {
  const type = 'ssn';
  checkKnownKeys(type, config, SSN_KEYS);
  const unet = resolveUNetOptions(type, config);
  const antithetic = config.antithetic ?? SSN_DEFAULTS.antithetic;
  if (typeof antithetic !== 'boolean') throw new ConfigError(`${type}: antithetic must be true or false, got ${JSON.stringify(antithetic)}: e.g. antithetic: true`);
  const mcSamples = positiveInteger(type, 'mcSamples', config.mcSamples ?? SSN_DEFAULTS.mcSamples, 20);
  if (antithetic && mcSamples % 2 !== 0) {
    throw new ConfigError(`${type}: mcSamples must be even with antithetic sampling (pairs ±), got ${mcSamples}: e.g. mcSamples: ${mcSamples + 1}, or antithetic: false`);
  }
  const epsilon = (name: 'diagonalEpsilon' | 'sampleDiagonalEpsilon') => finiteAtLeast(type, name, config[name] ?? SSN_DEFAULTS[name], 0, SSN_DEFAULTS[name]);
  const diagonalEpsilon = epsilon('diagonalEpsilon');
  if (diagonalEpsilon === 0) throw new ConfigError(`${type}: diagonalEpsilon must be > 0 (it keeps the diagonal positive), got 0: e.g. diagonalEpsilon: 1e-5`);
  return {
    type,
    ...unet,
    rank: positiveInteger(type, 'rank', config.rank ?? SSN_DEFAULTS.rank, 10),
    mcSamples,
    antithetic,
    diagonalEpsilon,
    sampleDiagonalEpsilon: epsilon('sampleDiagonalEpsilon'),
  };
}
