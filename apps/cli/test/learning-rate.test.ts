import { learningRateAt } from '@probunet/core';
import { describe, expect, it } from 'vitest';
import { continueSchedule, formatLearningRate, parseLearningRate, sameLearningRate } from '../src/learning-rate.js';

describe('--lr values', () => {
  it.each([
    ['1e-4', 1e-4],
    ['0.001', 0.001],
    ['.5', 0.5],
    ['1e-4,5e-5@80000', { boundaries: [80000], values: [1e-4, 5e-5] }],
    ['1e-4, 5e-5@80000, 1e-5@160000', { boundaries: [80000, 160000], values: [1e-4, 5e-5, 1e-5] }],
  ])('%s', (text, want) => expect(parseLearningRate(text)).toEqual(want));

  it.each([
    ['0', /bad rate "0"/],
    ['-1e-4', /bad rate/],
    ['fast', /bad rate "fast"/],
    ['1e-4@10', /first rate takes no @STEP/],
    ['1e-4,5e-5', /needs @STEP/],
    ['1e-4,5e-5@0', /needs @STEP/],
    ['1e-4,5e-5@20,1e-5@20', /do not increase \(20 then 20\)/],
    ['1e-4,5e-5@2.5', /needs @STEP/],
  ])('refuses %s', (text, why) => expect(() => parseLearningRate(text)).toThrow(why));

  it('formats and compares', () => {
    expect(formatLearningRate(1e-4)).toBe('0.0001');
    expect(formatLearningRate({ boundaries: [10], values: [1e-3, 1e-4] })).toBe('0.001, 0.0001 from step 10');
    expect(sameLearningRate(1e-4, { boundaries: [], values: [1e-4] })).toBe(true);
    expect(sameLearningRate(1e-4, 2e-4)).toBe(false);
  });
});

describe('continueSchedule', () => {
  it.each([
    // constant → constant at step 100: the old rate for steps 0..99, the new one from 100
    [{ boundaries: [], values: [1] }, 100, { boundaries: [], values: [2] }, { boundaries: [100], values: [1, 2] }],
    // from step 0 the new schedule alone
    [{ boundaries: [], values: [1] }, 0, { boundaries: [5], values: [3, 4] }, { boundaries: [5], values: [3, 4] }],
    // the old schedule's boundaries before the change stay, those after it go; the new one's after it come
    [{ boundaries: [10, 20, 30], values: [1, 2, 3, 4] }, 25, { boundaries: [15, 40], values: [7, 8, 9] }, { boundaries: [10, 20, 25, 40], values: [1, 2, 3, 8, 9] }],
    // an unchanged rate merges: nothing changes
    [{ boundaries: [], values: [1] }, 50, { boundaries: [], values: [1] }, { boundaries: [], values: [1] }],
    // a change exactly at an old boundary
    [{ boundaries: [10], values: [1, 2] }, 10, { boundaries: [], values: [5] }, { boundaries: [10], values: [1, 5] }],
  ])('%j changed at %i to %j', (before, at, after, want) => {
    const got = continueSchedule(before, at, after);
    expect(got).toEqual(want);
    // Every step before the change keeps its old rate, every step from it on takes the new one.
    for (let step = 0; step < 60; step++) expect(learningRateAt(got, step)).toBe(learningRateAt(step < at ? before : after, step));
  });
});
