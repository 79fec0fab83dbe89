/**
 * Synthetic maps of the real sizes of the two evaluation workloads of the field, from a seeded
 * generator (the same seed gives the same maps).
 *   LIDC:       samples and graders as discs near the centre of 128×128 (some empty), foreground class 1
 *   Cityscapes: 16 samples × 32 weighted flip modes, 256×512, 10 classes, ignore label 255
 */
import { CITYSCAPES_FLIPS, type LabelMap } from '../src/index.js';

export type Random = () => number;

/** A linear congruential generator in [0, 1). */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

export interface Image {
  samples: LabelMap[];
  truths: LabelMap[];
  weights?: number[];
}

function disc(h: number, w: number, cy: number, cx: number, r: number, out = new Uint8Array(h * w)): Uint8Array {
  for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(h, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(w, Math.ceil(cx + r)); x++) {
      if ((y - cy) ** 2 + (x - cx) ** 2 < r * r) out[y * w + x] = 1;
    }
  }
  return out;
}

/** One LIDC-like image: each map is empty with its probability, else a disc of radius 4–14. */
export function lidcImage(rnd: Random, { samples = 16, graders = 4, pEmptySample = 0.2, pEmptyTruth = 0.3 } = {}): Image {
  const h = 128;
  const w = 128;
  const make = (pEmpty: number): LabelMap => ({
    height: h,
    width: w,
    data: rnd() < pEmpty ? new Uint8Array(h * w) : disc(h, w, 64 + 6 * (rnd() - 0.5), 64 + 6 * (rnd() - 0.5), 4 + 10 * rnd()),
  });
  return { samples: Array.from({ length: samples }, () => make(pEmptySample)), truths: Array.from({ length: graders }, () => make(pEmptyTruth)) };
}

export const CITY_CLASSES = [0, 1, 8, 11, 13, 19, 20, 21, 22, 23];

/** One Cityscapes-like image: the 32 flip modes of a scene as weighted truths, 16 noisy samples. */
export function cityscapesImage(rnd: Random): Image & { weights: number[] } {
  const h = 256;
  const w = 512;
  // A scene: road bottom, sidewalk band, vegetation top, a few cars and persons, other classes elsewhere.
  const base = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) base[y * w + x] = y > 170 ? 0 : y > 140 ? 1 : y < 60 ? 8 : 2;
  }
  for (let k = 0; k < 6; k++) {
    const m = disc(h, w, 120 + 40 * rnd(), 512 * rnd(), 10 + 20 * rnd());
    const cls = k % 2 ? 13 : 11;
    for (let i = 0; i < m.length; i++) if (m[i]) base[i] = cls;
  }
  const flip = (mode: number, noise: number): Uint8Array => {
    const out = Uint8Array.from(base);
    for (let i = 0; i < out.length; i++) {
      CITYSCAPES_FLIPS.forEach((f, b) => {
        if ((mode >> b) & 1 && out[i] === f.from) out[i] = f.to;
      });
      if (noise > 0 && rnd() < noise) out[i] = CITY_CLASSES[Math.floor(rnd() * CITY_CLASSES.length)]!;
    }
    return out;
  };
  const truths: LabelMap[] = [];
  const weights: number[] = [];
  for (let mode = 0; mode < 32; mode++) {
    truths.push({ height: h, width: w, data: flip(mode, 0) });
    weights.push(CITYSCAPES_FLIPS.reduce((p, f, b) => p * ((mode >> b) & 1 ? f.probability : 1 - f.probability), 1));
  }
  const samples = Array.from({ length: 16 }, () => ({ height: h, width: w, data: flip(Math.floor(rnd() * 32), 0.02) }));
  return { samples, truths, weights };
}
