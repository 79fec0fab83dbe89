import { ConfigError } from '../errors.js';
// Checks of component options, shared by the built-in components.

/** Validates a channel list and block depth shared by every down-path component. */
export function checkChannels(owner: string, channels: unknown, convsPerBlock: unknown): void {
  if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => Number.isInteger(c) && c > 0)) {
    throw new ConfigError(`${owner}: channels must be a non-empty list of positive integers, got ${JSON.stringify(channels)}`);
  }
  if (!Number.isInteger(convsPerBlock) || (convsPerBlock as number) < 1) {
    throw new ConfigError(`${owner}: convsPerBlock must be a positive integer, got ${String(convsPerBlock)}`);
  }
}

export function positiveInt(owner: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new ConfigError(`${owner}: ${name} must be a positive integer, got ${String(value)}`);
  }
  return value as number;
}

export function seedOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
