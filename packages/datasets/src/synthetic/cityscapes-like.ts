import { indexedDataset, type Example, type IndexedDataset } from '../example.js';
import { CITYSCAPES_EVAL_CLASSES, flipDistribution } from '../flips.js';
import { SeededRandom } from '@probunet/core/random';
import { checkImplausibleOption, flipRows, implausibleGraderOf, rollLabels, type ImplausibleKind } from './implausible-grader.js';

const COLORS: Record<number, [number, number, number]> = {
  0: [0.5, 0.25, 0.5], // road
  1: [0.95, 0.14, 0.91], // sidewalk
  2: [0.27, 0.27, 0.27], // building
  8: [0.42, 0.56, 0.14], // vegetation
  10: [0.27, 0.51, 0.71], // sky
  11: [0.86, 0.08, 0.24], // person
  13: [0.0, 0.0, 0.56], // car
};

export interface SyntheticCityscapesOptions {
  count?: number;
  /** Default 64. */
  height?: number;
  /** Default 128. */
  width?: number;
  /** Flipped label maps drawn per image. Default 1 (as in the paper's training). */
  graders?: number;
  seed?: number;
  /**
   * Replace one grader's label map per image by an implausible one, for testing annotation
   * assessment: `'shifted'` (the unflipped scene moved by half the height and half the width,
   * wrapping: road where the image shows buildings) or `'inverted'` (the unflipped scene upside
   * down). Which grader is drawn per image and recorded in `meta.implausibleGrader` (its
   * `meta.flipModes` entry reads `implausible-<kind>`); the image and every other label map are
   * those of the option off. Needs graders ≥ 2. Default off.
   */
  implausibleGrader?: ImplausibleKind;
  /**
   * Scales every person (default 1: 15–25 % of the image height tall, 0.3 × that wide — 1–2 px
   * wide at 32×64, about what real Cityscapes pedestrians are at that resolution). An experiment
   * option of issue 27 (does object size keep the Prob. U-Net from sampling the person flip?); it
   * changes only the persons' extent: every random draw, and so every other object, stays the same.
   */
  personScale?: number;
}

/**
 * A Cityscapes-like task with a known answer: simple street scenes (sky, building, vegetation,
 * sidewalk, road, persons, cars; the bottom rows are the ignore label 255 like the ego vehicle)
 * in which the five classes flip per image with the paper's probabilities (8/17 … 4/17). The
 * image never shows whether a class flipped. `distribution` lists every distinct flip combination
 * (up to 32; combinations that change nothing, because a class is absent, are merged).
 * 24 classes; evaluate on CITYSCAPES_EVAL_CLASSES with emptyPair 'nan'.
 */
export function createSyntheticCityscapes(options: SyntheticCityscapesOptions = {}): IndexedDataset {
  const count = options.count ?? 500;
  const h = options.height ?? 64;
  const w = options.width ?? 128;
  const graders = options.graders ?? 1;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 32 || w < 32 || h > 512 || w > 1024) {
    throw new RangeError(`height and width must be integers in 32..512 and 32..1024, got ${h}×${w}`);
  }
  const implausible = checkImplausibleOption(options.implausibleGrader, graders);
  const personScale = options.personScale ?? 1;
  if (!(personScale > 0 && personScale <= 4)) throw new RangeError(`personScale must be in (0, 4], got ${personScale}`);
  const spec = { channels: 3, numClasses: 24, ignoreLabel: 255, evalClasses: CITYSCAPES_EVAL_CLASSES, emptyPair: 'nan' as const };

  const make = async (index: number): Promise<Example> => {
    const rng = SeededRandom.derive(seed, 2, index);
    const base = new Uint8Array(h * w);
    const horizon = Math.round(h * rng.uniform(0.35, 0.5));
    const sidewalkTop = Math.round(h * rng.uniform(0.55, 0.65));
    const roadTop = Math.round(h * rng.uniform(0.68, 0.78));
    const skyLine = Math.round(h * rng.uniform(0.1, 0.25));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) base[y * w + x] = y < skyLine ? 10 : y < horizon ? 2 : y < sidewalkTop ? 2 : y < roadTop ? 1 : 0;
    }
    const fill = (cls: number, y0: number, y1: number, x0: number, x1: number, shape: 'rect' | 'ellipse') => {
      for (let y = Math.max(0, Math.round(y0)); y < Math.min(h, Math.round(y1)); y++) {
        for (let x = Math.max(0, Math.round(x0)); x < Math.min(w, Math.round(x1)); x++) {
          const ny = ((y + 0.5 - (y0 + y1) / 2) / ((y1 - y0) / 2)) ** 2;
          const nx = ((x + 0.5 - (x0 + x1) / 2) / ((x1 - x0) / 2)) ** 2;
          if (shape === 'rect' || nx + ny < 1) base[y * w + x] = cls;
        }
      }
    };
    const trees = rng.nextInt(4);
    for (let k = 0; k < trees; k++) {
      const cx = rng.uniform(0, w);
      const r = h * rng.uniform(0.08, 0.18);
      fill(8, skyLine - r * 0.5, horizon + r * 0.2, cx - r, cx + r, 'ellipse');
    }
    const cars = rng.nextInt(4);
    for (let k = 0; k < cars; k++) {
      const cx = rng.uniform(0, w);
      const cw = w * rng.uniform(0.1, 0.2);
      const y1 = rng.uniform(roadTop + 2, h - 2);
      fill(13, y1 - cw * 0.45, y1, cx - cw / 2, cx + cw / 2, 'rect');
    }
    const persons = rng.nextInt(4);
    for (let k = 0; k < persons; k++) {
      const cx = rng.uniform(0, w);
      const ph = h * rng.uniform(0.15, 0.25) * personScale;
      fill(11, sidewalkTop + 2 - ph, sidewalkTop + 2, cx - ph * 0.15, cx + ph * 0.15, 'rect');
    }
    const egoRows = Math.max(1, Math.round(h / 32));
    for (let y = h - egoRows; y < h; y++) for (let x = 0; x < w; x++) base[y * w + x] = 255;

    const image = new Float32Array(h * w * 3);
    const jitter = [rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)];
    for (let p = 0; p < h * w; p++) {
      const c = COLORS[base[p]!] ?? [0, 0, 0];
      for (let ch = 0; ch < 3; ch++) image[p * 3 + ch] = c[ch]! + jitter[ch]! + 0.05 * rng.normal();
    }

    const distribution = flipDistribution(base);
    const picks = Array.from({ length: graders }, () => rng.categorical(distribution.map((m) => m.probability)));
    const annotations = picks.map((k) => distribution[k]!.labels);
    const flipModes = picks.map((k) => distribution[k]!.name);
    const meta: Record<string, unknown> = { source: 'synthetic-cityscapes', unflipped: base, flipModes };
    if (implausible) {
      const g = implausibleGraderOf(seed, 2, index, graders);
      annotations[g] = implausible === 'shifted' ? rollLabels(base, h, w, h >> 1, w >> 1) : flipRows(base, h, w);
      flipModes[g] = `implausible-${implausible}`;
      meta.implausibleGrader = g;
    }
    return { id: `synthetic-cityscapes-${seed}-${index}`, height: h, width: w, channels: 3, image, annotations, distribution, meta };
  };
  return indexedDataset(`synthetic-cityscapes(${h}x${w}, seed=${seed})`, count, spec, make);
}
