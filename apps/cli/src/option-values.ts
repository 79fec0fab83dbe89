import { UsageError } from './cli-errors.js';

/** An integer option ≥ min; `undefined` passes through when there is no default. */
export function integerOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return v;
}

/** A finite number option > 0. */
export function positiveNumberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v <= 0) throw new UsageError(`--${name} must be a finite number > 0, got "${value}"`);
  return v;
}

/** A value that must be one of `choices`. */
export function choiceOption<T extends string>(name: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

/** A required option's value, or a UsageError that names it. */
export function requiredOption(name: string, value: string | undefined, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} ${what} is required`);
  return value;
}
