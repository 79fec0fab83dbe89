import { describe, expect, it } from 'vitest';
import { modeCorrelation } from '../src/commands/reproduce-report.js';

const flips = (ps: number[]) => ps.map((p, i) => ({ from: i, to: 10 + i, trueProbability: p, truthPixels: 100, flippedPixels: 0, fraction: 0 }));

describe('modeCorrelation (the cityscapes-like mode-frequency target)', () => {
  it('frequencies proportional to the truth, with unsampled modes at 0: r = 1', () => {
    // p = (0.2, 0.5): true mode probabilities 00: 0.4, 01: 0.4, 10: 0.1, 11: 0.1.
    const r = modeCorrelation({ flips: flips([0.2, 0.5]), modes: [{ key: '00', count: 5, frequency: 0.5, trueProbability: 0.4 }, { key: '01', count: 5, frequency: 0.5, trueProbability: 0.4 }] });
    expect(r.modes).toBe(4);
    expect(r.sampled).toBe(2);
    expect(r.r).toBeCloseTo(1, 12);
  });

  it('every sample in one mode: r = 1/√3 by hand', () => {
    // freq (1, 0, 0, 0) against truth (0.4, 0.4, 0.1, 0.1): Σ dev·dev = 0.15, Σ dev_f² = 0.75, Σ dev_t² = 0.09.
    const r = modeCorrelation({ flips: flips([0.2, 0.5]), modes: [{ key: '00', count: 8, frequency: 1, trueProbability: 0.4 }] });
    expect(r.r).toBeCloseTo(1 / Math.sqrt(3), 12);
  });

  it('frequencies reversed against one flip: r = −1; no calibration: NaN', () => {
    const r = modeCorrelation({ flips: flips([0.3]), modes: [{ key: '1', count: 7, frequency: 0.7, trueProbability: 0.3 }, { key: '0', count: 3, frequency: 0.3, trueProbability: 0.7 }] });
    expect(r.r).toBeCloseTo(-1, 12);
    expect(modeCorrelation(null).r).toBeNaN();
  });
});
