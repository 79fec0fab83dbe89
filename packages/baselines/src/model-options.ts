import { AUTHORS_DEFAULTS, ConfigError, DEFAULT_IGNORE_LABEL } from '@probunet/core';

/**
 * The short form every model type accepts, as `createProbUNet` does: `inputChannels` and `numClasses`
 * are yours to give; the rest defaults to the authors' Prob. U-Net code.
 */
export interface UNetShortForm {
  inputChannels: number;
  numClasses: number;
  /** Per level, finest first. Default [32, 64, 128, 192, 192, 192, 192] (the authors' Cityscapes U-Net). */
  channels?: number[];
  /** 3×3 convs per block. Default 3. */
  convsPerBlock?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
  /** Pixels with this label are excluded from the loss. Default 255. */
  ignoreLabel?: number;
}

/** The short form with every default filled in. */
export interface UNetOptions {
  inputChannels: number;
  numClasses: number;
  channels: number[];
  convsPerBlock: number;
  seed: number;
  ignoreLabel: number;
}

export const SHORT_FORM_KEYS = ['type', 'inputChannels', 'numClasses', 'channels', 'convsPerBlock', 'seed', 'ignoreLabel'] as const;

/** Throws a ConfigError naming a key that `type` does not know (a typo, usually) and the keys it does. */
export function checkKnownKeys(type: string, config: object, known: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${type}: unknown option "${key}"; the options of ${type} are ${known.filter((k) => k !== 'type').join(', ')} (check the spelling)`);
    }
  }
}

export function positiveInteger(type: string, name: string, value: unknown, example: number): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new ConfigError(`${type}: ${name} must be a positive integer, got ${JSON.stringify(value)}: e.g. ${name}: ${example}`);
  }
  return value as number;
}

export function finiteAtLeast(type: string, name: string, value: unknown, min: number, example: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${type}: ${name} must be a finite number ≥ ${min}, got ${JSON.stringify(value)}: e.g. ${name}: ${example}`);
  }
  return value;
}

/** Validates the short-form U-Net options shared by every baseline and fills in the defaults. */
export function resolveUNetOptions(type: string, config: Partial<UNetShortForm>): UNetOptions {
  for (const key of ['inputChannels', 'numClasses'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new ConfigError(`${type}: ${key} is required and must be a positive integer, got ${JSON.stringify(v)}: e.g. ${key}: ${key === 'numClasses' ? 2 : 1}`);
    }
  }
  const numClasses = config.numClasses!;
  if (numClasses < 2) throw new ConfigError(`${type}: numClasses must be ≥ 2 (a binary mask is 2 classes), got ${numClasses}`);
  const channels = config.channels ?? [...AUTHORS_DEFAULTS.channels];
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new ConfigError(`${type}: channels must be a non-empty list of positive integers, finest level first, got ${JSON.stringify(channels)}: e.g. channels: [32, 64, 128, 192]`);
  }
  const convsPerBlock = positiveInteger(type, 'convsPerBlock', config.convsPerBlock ?? AUTHORS_DEFAULTS.convsPerBlock, 3);
  const seed = config.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new ConfigError(`${type}: seed must be a finite number, got ${JSON.stringify(seed)}`);
  const ignoreLabel = config.ignoreLabel ?? DEFAULT_IGNORE_LABEL;
  if (!Number.isInteger(ignoreLabel) || (ignoreLabel >= 0 && ignoreLabel < numClasses)) {
    throw new ConfigError(`${type}: ignoreLabel ${ignoreLabel} collides with a class index (0..${numClasses - 1}): pick an integer outside that range, e.g. 255`);
  }
  return { inputChannels: config.inputChannels!, numClasses, channels: [...channels], convsPerBlock, seed, ignoreLabel };
}
