import { describe, expect, it } from 'vitest';
import { augmentExample, augmented } from './augment.js';
import type { Example } from './example.js';
import { SeededRandom } from '@probunet/core/random';
import { createSyntheticCityscapes } from './synthetic/cityscapes-like.js';

/** A 16×16 image with a bright 4×4 square at rows 2–5, cols 3–6, labelled 1. */
function square(): Example {
  const image = new Float32Array(256);
  const labels = new Uint8Array(256);
  for (let y = 2; y < 6; y++) {
    for (let x = 3; x < 7; x++) {
      image[y * 16 + x] = 1;
      labels[y * 16 + x] = 1;
    }
  }
  return { id: 'sq', height: 16, width: 16, channels: 1, image, annotations: [labels], meta: {} };
}

describe('augmentations', () => {
  it('no augmentation is the identity', () => {
    const ex = square();
    const out = augmentExample(ex, new SeededRandom(1), { mirror: false });
    expect(Array.from(out.image)).toEqual(Array.from(ex.image));
    expect(Array.from(out.annotations[0]!)).toEqual(Array.from(ex.annotations[0]!));
  });

  it('a mirror moves image and labels together', () => {
    const ex = square();
    let out: Example | undefined;
    for (let s = 0; s < 20 && !(out?.meta.augmentation as { mirror?: boolean } | undefined)?.mirror; s++) out = augmentExample(ex, new SeededRandom(s), {});
    expect((out!.meta.augmentation as { mirror: boolean }).mirror).toBe(true);
    // Columns 3–6 become 9–12.
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) expect(out!.annotations[0]![y * 16 + x]).toBe(y >= 2 && y < 6 && x >= 9 && x < 13 ? 1 : 0);
    expect(Array.from(out!.image, (v) => (v > 0.5 ? 1 : 0))).toEqual(Array.from(out!.annotations[0]!));
  });

  it('rotation and zoom keep image and labels aligned, fill outside pixels with the ignore label', () => {
    const ex = square();
    const out = augmentExample(ex, new SeededRandom(3), { mirror: false, rotationDegrees: 30, scale: [0.6, 0.6] });
    const labels = out.annotations[0]!;
    expect(new Set(labels)).toEqual(new Set([0, 1, 255]));
    for (let i = 0; i < 256; i++) if (labels[i] === 1) expect(out.image[i]!).toBeGreaterThan(0.25);
  });

  it('crop, gamma and elastic produce the requested size and stay consistent across all modes', async () => {
    const ex = await createSyntheticCityscapes({ count: 1, height: 64, width: 128 }).get(0);
    const out = augmentExample(ex, new SeededRandom(5), { rotationDegrees: 10, scale: [0.9, 1.1], crop: [48, 96], gamma: [0.8, 1.2], elastic: { alpha: 1.5, grid: 4 } });
    expect([out.height, out.width]).toEqual([48, 96]);
    expect(out.image).toHaveLength(48 * 96 * 3);
    // Annotations are still modes of the (augmented) distribution, and every mode is warped the same way.
    for (const a of out.annotations) expect(out.distribution!.some((m) => m.labels === a)).toBe(true);
    const base = out.meta.unflipped as Uint8Array;
    for (const m of out.distribution!) for (let i = 0; i < base.length; i++) if (base[i] === 2) expect(m.labels[i]).toBe(2); // buildings never flip
  });

  it('augmented() is reproducible and differs between epochs', async () => {
    const base = createSyntheticCityscapes({ count: 2, height: 32, width: 64 });
    const a = augmented(base, { seed: 1, rotationDegrees: 15 });
    const b = augmented(base, { seed: 1, rotationDegrees: 15 });
    const first = await a.get(0);
    expect(Array.from(first.image)).toEqual(Array.from((await b.get(0)).image));
    expect(Array.from((await a.get(0)).image)).not.toEqual(Array.from(first.image));
  });
});
