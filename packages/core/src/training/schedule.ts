/**
 * Piecewise-constant learning rate: `values[i]` while step < `boundaries[i]`, the last value after.
 * The authors' Cityscapes schedule is the default.
 */
export interface PiecewiseSchedule {
  boundaries: number[];
  values: number[];
}

export const AUTHORS_SCHEDULE: PiecewiseSchedule = {
  boundaries: [80_000, 160_000, 240_000],
  values: [1e-4, 5e-5, 1e-5, 5e-7],
};

export function checkSchedule(s: PiecewiseSchedule): PiecewiseSchedule {
  if (s.values.length !== s.boundaries.length + 1) {
    throw new RangeError(`a piecewise schedule needs one more value than boundaries, got ${s.values.length} values and ${s.boundaries.length} boundaries`);
  }
  for (let i = 1; i < s.boundaries.length; i++) {
    if (!(s.boundaries[i]! > s.boundaries[i - 1]!)) throw new RangeError(`schedule boundaries must increase, got ${s.boundaries.join(', ')}`);
  }
  if (!s.values.every((v) => Number.isFinite(v) && v >= 0)) throw new RangeError(`schedule values must be finite and ≥ 0, got ${s.values.join(', ')}`);
  return { boundaries: [...s.boundaries], values: [...s.values] };
}

/** The learning rate at a 0-based step. */
export function learningRateAt(s: PiecewiseSchedule, step: number): number {
  let i = 0;
  while (i < s.boundaries.length && step >= s.boundaries[i]!) i++;
  return s.values[i]!;
}
