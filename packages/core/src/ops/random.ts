/**
 * A small seeded PRNG (SplitMix32) whose whole state is one integer, so training can save it in a
 * checkpoint and resume the very same sequence. TensorFlow.js random ops take a numeric seed; we
 * draw those seeds from here.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** The state to store; `SeededRandom.fromState(s)` continues the sequence. */
  getState(): number {
    return this.state;
  }

  static fromState(state: number): SeededRandom {
    return new SeededRandom(state);
  }

  /** An independent stream for (seed, ...keys), e.g. one per dataset example: random access, reproducible. */
  static derive(seed: number, ...keys: number[]): SeededRandom {
    let h = seed >>> 0;
    for (const k of keys) h = Math.imul(h ^ (k + 0x9e3779b9 + (h << 6) + (h >>> 2)), 0x85ebca6b) >>> 0;
    return new SeededRandom(h);
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** An index drawn from a discrete distribution. */
  categorical(probabilities: readonly number[]): number {
    let u = this.next();
    for (let i = 0; i < probabilities.length; i++) {
      u -= probabilities[i]!;
      if (u < 0) return i;
    }
    return probabilities.length - 1;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  /** A seed for a TensorFlow.js random op (kept below 2^31 so every backend takes it). */
  nextSeed(): number {
    return this.nextUint32() & 0x7fffffff;
  }
}
