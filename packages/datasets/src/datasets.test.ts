import * as tf from '@tensorflow/tfjs-core';
import { CITYSCAPES_FLIPS } from '@probunet/metrics';
import { describe, expect, it } from 'vitest';
import {
  batches,
  createSyntheticCityscapes,
  createSyntheticLidc,
  prefetch,
  sampleFromDistribution,
  toTensors,
} from './index.js';

describe('synthetic LIDC-like data', () => {
  it('is reproducible by seed and exposes an exact distribution', async () => {
    const a = await createSyntheticLidc({ count: 5, size: 32, seed: 3 }).get(2);
    const b = await createSyntheticLidc({ count: 5, size: 32, seed: 3 }).get(2);
    const c = await createSyntheticLidc({ count: 5, size: 32, seed: 4 }).get(2);
    expect(Array.from(a.image)).toEqual(Array.from(b.image));
    expect(Array.from(a.image)).not.toEqual(Array.from(c.image));
    expect(a.annotations).toHaveLength(4);
    expect(a.distribution!.reduce((s, m) => s + m.probability, 0)).toBeCloseTo(1, 12);
    expect(a.distribution!.map((m) => m.name)).toEqual(['empty', 'small', 'medium', 'large']);
    // Every annotation is one of the modes; the empty mode is empty and extents grow with scale.
    const sizes = a.distribution!.map((m) => m.labels.reduce((s, v) => s + v, 0));
    expect(sizes[0]).toBe(0);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
    expect(sizes[2]).toBeLessThan(sizes[3]!);
    for (const ann of a.annotations) expect(a.distribution!.some((m) => m.labels === ann)).toBe(true);
  });

  it('graders draw modes with the stated probabilities', async () => {
    const ds = createSyntheticLidc({ count: 400, size: 32, graders: 4, seed: 1 });
    const counts = new Map<string, number>();
    for await (const ex of ds) for (const name of ex.meta.graderModes as string[]) counts.set(name, (counts.get(name) ?? 0) + 1);
    const n = 1600;
    // Binomial standard error ≤ 0.0125 at n = 1600; allow 4 of them.
    expect(counts.get('empty')! / n).toBeCloseTo(0.25, 1);
    expect(Math.abs(counts.get('medium')! / n - 0.3)).toBeLessThan(0.05);
    expect(Math.abs(counts.get('large')! / n - 0.2)).toBeLessThan(0.05);
  });

  it('rejects bad options', () => {
    expect(() => createSyntheticLidc({ size: 16 })).toThrow(/size must be an integer in 32..256/);
    expect(() => createSyntheticLidc({ modes: [{ name: 'a', scale: 1, probability: 0.5 }] })).toThrow(/sum to 1/);
  });
});

describe('synthetic Cityscapes-like data', () => {
  it('personScale grows the persons and nothing else; out of range is refused', async () => {
    const base = createSyntheticCityscapes({ count: 6, height: 32, width: 64, seed: 3 });
    const big = createSyntheticCityscapes({ count: 6, height: 32, width: 64, seed: 3, personScale: 2 });
    let persons = [0, 0];
    for (let i = 0; i < 6; i++) {
      const [a, b] = [(await base.get(i)).meta.unflipped as Uint8Array, (await big.get(i)).meta.unflipped as Uint8Array];
      a.forEach((v, p) => {
        if (v !== 11 && b[p] !== 11) expect(b[p]).toBe(v);
      });
      persons = [persons[0]! + a.filter((v) => v === 11).length, persons[1]! + b.filter((v) => v === 11).length];
    }
    expect(persons[0]).toBeGreaterThan(0);
    expect(persons[1]! / persons[0]!).toBeGreaterThan(2.5); // ≈ 4× the area, less where persons leave the image
    expect(() => createSyntheticCityscapes({ personScale: 0 })).toThrow(/personScale must be in \(0, 4\], got 0/);
  });

  it('flips classes with the paper\u2019s probabilities and merges combinations that change nothing', async () => {
    const ds = createSyntheticCityscapes({ count: 30, seed: 2 });
    for await (const ex of ds) {
      const dist = ex.distribution!;
      expect(dist.reduce((s, m) => s + m.probability, 0)).toBeCloseTo(1, 12);
      const unflipped = ex.meta.unflipped as Uint8Array;
      const present = CITYSCAPES_FLIPS.filter((f) => unflipped.includes(f.from)).length;
      expect(dist).toHaveLength(2 ** present);
      // The mode flipping everything present has probability Π p over the present classes.
      const all = dist.find((m) => !m.name.includes('0'))!;
      const expected = CITYSCAPES_FLIPS.filter((f) => unflipped.includes(f.from)).reduce((p, f) => p * f.probability, 1);
      expect(all.probability).toBeCloseTo(expected, 12);
      // The bottom rows are the ignore label in every mode.
      expect(dist.every((m) => m.labels[m.labels.length - 1] === 255)).toBe(true);
    }
  });
});

describe('batching', () => {
  it('shuffles reproducibly, differently per epoch, and covers every example once per epoch', async () => {
    const ds = createSyntheticLidc({ count: 10, size: 32 });
    const ids = async () => {
      const out: string[][] = [];
      for await (const b of batches(ds, { batchSize: 4, shuffleSeed: 7, epochs: 2 })) out.push(b.map((e) => e.id));
      return out;
    };
    const first = await ids();
    expect(await ids()).toEqual(first);
    expect(first.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const epoch1 = first.slice(0, 3).flat();
    const epoch2 = first.slice(3).flat();
    expect(new Set(epoch1).size).toBe(10);
    expect(epoch1).not.toEqual(epoch2);
  });

  it.each([
    ['whole batches', true, 0, 7],
    ['with a last partial batch', false, 0, 5],
    ['augmented, whole batches', true, 1, 4],
  ] as const)('startStep s yields exactly the batches from s on of a run from 0 (%s), reading none of the skipped', async (_name, dropRemainder, augmentSeed, s) => {
    const ds = createSyntheticLidc({ count: 10, size: 32 });
    const augment = augmentSeed ? { augment: { options: { mirror: true, rotationDegrees: 10 }, seed: augmentSeed } } : {};
    const read: number[] = [];
    const counting = Object.create(ds, { get: { value: (i: number) => (read.push(i), ds.get(i)) } }) as typeof ds;
    const take = async (startStep: number, n: number, source = ds) => {
      const out: Array<{ ids: string[]; pixels: number[] }> = [];
      for await (const b of batches(source, { batchSize: 4, shuffleSeed: 7, epochs: Infinity, dropRemainder, startStep, ...augment })) {
        out.push({ ids: b.map((e) => e.id), pixels: b.map((e) => Array.from(e.image).reduce((x, y) => x + y, 0)) });
        if (out.length === n) break;
      }
      return out;
    };
    const straight = await take(0, s + 4);
    const resumed = await take(s, 4, counting);
    expect(resumed).toEqual(straight.slice(s));
    expect(read).toHaveLength(resumed.reduce((n, b) => n + b.ids.length, 0)); // the skipped batches are never read
  });

  it('prefetch keeps order', async () => {
    async function* gen() {
      for (let i = 0; i < 5; i++) yield i;
    }
    const out: number[] = [];
    for await (const v of prefetch(gen(), 3)) out.push(v);
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it('stacks examples into NHWC images and [B,A,H,W] int32 labels', async () => {
    const ds = createSyntheticLidc({ count: 3, size: 32, graders: 4 });
    const exs = await Promise.all([0, 1, 2].map((i) => ds.get(i)));
    const { images, labels } = toTensors(exs);
    expect(images.shape).toEqual([3, 32, 32, 1]);
    expect(labels.shape).toEqual([3, 4, 32, 32]);
    expect(labels.dtype).toBe('int32');
    expect(Array.from(labels.dataSync().slice(32 * 32, 2 * 32 * 32))).toEqual(Array.from(exs[0]!.annotations[1]!));
    tf.dispose([images, labels]);
  });

  it('oracle samples come from the distribution', async () => {
    const ex = await createSyntheticLidc({ count: 1, size: 32 }).get(0);
    const samples = sampleFromDistribution(ex, 50, 1);
    expect(samples.every((s) => ex.distribution!.some((m) => m.labels === s))).toBe(true);
    expect(new Set(samples).size).toBeGreaterThan(1);
  });
});
