import type { PiecewiseSchedule } from '@probunet/core';
import { UsageError } from './cli-errors.js';

/** What --lr takes: a constant rate, or a piecewise schedule in absolute steps. */
export type LearningRate = number | PiecewiseSchedule;

const RATE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;

/**
 * Parses --lr: `1e-4` (constant) or `1e-4,5e-5@80000,1e-5@160000` (the first rate from step 0, each
 * further rate from the step after its @; steps increasing). Anything else is a UsageError.
 */
export function parseLearningRate(text: string): LearningRate {
  const bad = (why: string) => new UsageError(`--lr ${why}: give a rate (e.g. 1e-4) or a schedule RATE,RATE@STEP,… (e.g. 1e-4,5e-5@80000), got "${text}"`);
  const parts = text.split(',').map((p) => p.trim());
  const values: number[] = [];
  const boundaries: number[] = [];
  parts.forEach((part, i) => {
    const [rate, step, extra] = part.split('@');
    if (extra !== undefined || rate === undefined || !RATE.test(rate) || !(Number(rate) > 0)) throw bad(`has a bad rate "${part}" (rates are numbers > 0)`);
    if (i === 0 && step !== undefined) throw bad('starts at step 0: its first rate takes no @STEP');
    if (i > 0) {
      const s = Number(step);
      if (step === undefined || !/^\d+$/.test(step) || s < 1) throw bad(`needs @STEP (an integer ≥ 1) after every rate but the first, at "${part}"`);
      if (boundaries.length > 0 && s <= boundaries.at(-1)!) throw bad(`has steps that do not increase (${boundaries.at(-1)} then ${s})`);
      boundaries.push(s);
    }
    values.push(Number(rate));
  });
  return boundaries.length === 0 ? values[0]! : { boundaries, values };
}

export function scheduleOf(lr: LearningRate): PiecewiseSchedule {
  return typeof lr === 'number' ? { boundaries: [], values: [lr] } : { boundaries: [...lr.boundaries], values: [...lr.values] };
}

/** `1e-4` or `1e-4, 5e-5 from step 80000, …` */
export function formatLearningRate(lr: LearningRate): string {
  if (typeof lr === 'number') return String(lr);
  return lr.values.map((v, i) => (i === 0 ? String(v) : `${v} from step ${lr.boundaries[i - 1]}`)).join(', ');
}

export function sameLearningRate(a: LearningRate, b: LearningRate): boolean {
  const x = scheduleOf(a);
  const y = scheduleOf(b);
  return x.values.join() === y.values.join() && x.boundaries.join() === y.boundaries.join();
}

/**
 * The schedule of a run whose rate changes at `fromStep` (0-based: the update that makes step
 * fromStep + 1): `before` for the steps already taken, `after` from then on (both in absolute
 * steps), so the rate of every step, past and future, stays readable from one schedule. Adjacent
 * pieces of equal rate are merged.
 */
export function continueSchedule(before: PiecewiseSchedule, fromStep: number, after: PiecewiseSchedule): PiecewiseSchedule {
  const boundaries: number[] = [];
  const values: number[] = [];
  const push = (from: number | undefined, value: number) => {
    if (values.length > 0 && values.at(-1) === value) return;
    if (from !== undefined) boundaries.push(from);
    values.push(value);
  };
  if (fromStep > 0) {
    push(undefined, before.values[0]!);
    before.boundaries.forEach((b, i) => {
      if (b < fromStep) push(b, before.values[i + 1]!);
    });
  }
  const rateAt = (s: PiecewiseSchedule, step: number) => s.values[s.boundaries.filter((b) => step >= b).length]!;
  push(fromStep > 0 ? fromStep : undefined, rateAt(after, fromStep));
  after.boundaries.forEach((b, i) => {
    if (b > fromStep) push(b, after.values[i + 1]!);
  });
  return { boundaries, values };
}
