import { describe, expect, it } from 'vitest';
import { CollapseDetector, nonFiniteTerms } from '../src/training-monitor.js';
import { uncertaintyMaps } from '../src/uncertainty-maps.js';

describe('uncertaintyMaps (local until @probunet/metrics has it)', () => {
  it.each([
    ['all samples agree on 0', [[0], [0], [0], [0]], [1, 0], 0],
    ['all samples agree on 1', [[1], [1]], [0, 1], 0],
    ['half and half: ln 2 nats', [[0], [1], [0], [1]], [0.5, 0.5], Math.log(2)],
    ['3 to 1', [[1], [1], [1], [0]], [0.25, 0.75], -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))],
    ['ignore label not counted', [[255], [255]], [0, 0], 0],
  ])('%s', (_name, samples, freq, entropy) => {
    const m = uncertaintyMaps(samples, 1, 1, 2);
    expect(m.classFrequency.map((f) => f[0])).toEqual(freq);
    expect(m.entropy[0]).toBeCloseTo(entropy, 6);
  });
});

describe('CollapseDetector', () => {
  it('warns once, after the KL stayed below the threshold for a whole window', () => {
    const d = new CollapseDetector(0.01, 3);
    expect([d.observe(1, 0.001), d.observe(2, 0.5), d.observe(3, 0.001), d.observe(4, 0.002)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(d.observe(5, 0.0)).toMatch(/stayed below 0.01 nats for 3 steps \(steps 3–5\)/);
    expect(d.observe(6, 0.0)).toBeUndefined();
  });
});

describe('nonFiniteTerms', () => {
  it.each([
    ['step 4: the loss or the gradient is not finite (loss NaN: reconstruction NaN, kl 0.3; gradient norm NaN; learning rate 0.1)', ['reconstruction']],
    ['step 1: the loss or the gradient is not finite (loss 3: reconstruction 2, kl 1; gradient norm Infinity; learning rate 0.1)', ['gradient']],
    ["step 1: the update's norm is Infinity in float32 (loss 3: reconstruction 2, kl 1; gradient norm 5; learning rate 1e38)", ['update']],
  ])('%s', (message, terms) => expect(nonFiniteTerms(message)).toEqual(terms));
});
