import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.js';

describe('@probunet/core/random', () => {
  it('imports nothing, so datasets can use it without loading TensorFlow.js or registering gradients', () => {
    const source = readFileSync(new URL('./random.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(|\bimport\(/);
  });

  it('is the SeededRandom of the main entry point, reproducible from its state', () => {
    const a = new SeededRandom(7);
    const first = [a.next(), a.next()];
    const state = a.getState();
    const b = SeededRandom.fromState(state);
    expect([b.next(), b.next()]).toEqual([a.next(), a.next()]);
    expect(new SeededRandom(7).next()).toBe(first[0]);
  });
});
