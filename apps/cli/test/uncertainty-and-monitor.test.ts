import { describe, expect, it } from 'vitest';
import { CollapseDetector, nonFiniteTerms } from '../src/training-monitor.js';

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
