import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { indexedDataset, type IndexedDataset } from '../example.js';
import { DataError, type SkipReport } from '../errors.js';
import { CITYSCAPES_EVAL_CLASSES, flipDistribution } from '../flips.js';
import { resizeBilinear, resizeNearest } from '../image-ops.js';
import { SeededRandom } from '@probunet/core';
import { firstChannel, readPngWithLimit } from './png.js';

/** labelId → trainId of the Cityscapes scripts (labels.py); everything else → 255 (ignore). */
export const LABEL_ID_TO_TRAIN_ID: ReadonlyMap<number, number> = new Map([
  [7, 0], [8, 1], [11, 2], [12, 3], [13, 4], [17, 5], [19, 6], [20, 7], [21, 8], [22, 9],
  [23, 10], [24, 11], [25, 12], [26, 13], [27, 14], [28, 15], [31, 16], [32, 17], [33, 18],
]);

/** The authors' validation cities, held out of the official training set. */
export const AUTHORS_VALIDATION_CITIES = ['darmstadt', 'monchengladbach', 'ulm'];

export interface CityscapesOptions {
  /** Folder holding `leftImg8bit/` and `gtFine/`. */
  root: string;
  /**
   * The authors' split: 'train' = official train minus darmstadt, monchengladbach, ulm;
   * 'val' = those three cities; 'test' = the official val set.
   */
  split: 'train' | 'val' | 'test';
  /** Output [height, width]; default [256, 512] (×0.25 of the 1024×2048 originals). */
  size?: [number, number];
  /** Flipped label maps drawn per image (independent coins per class). Default 1. 0 keeps the unflipped labels only. */
  graders?: number;
  seed?: number;
  onError?: 'throw' | 'skip';
  /**
   * Largest decoded PNG in bytes (width × height × channels × bit depth / 8), checked from the
   * header before decoding. Default `CITYSCAPES_MAX_PNG_BYTES` (32 MiB; an image is 6 MiB).
   */
  maxPngBytes?: number;
}

/** 32 MiB: five times a 2048×1024 RGB 8-bit image, twice one at 16-bit RGBA. */
export const CITYSCAPES_MAX_PNG_BYTES = 32 * 2 ** 20;

export interface CityscapesDataset extends IndexedDataset {
  cities: string[];
  report: SkipReport;
}

/**
 * Cityscapes with the paper's stochastic class flips: `leftImg8bit/<split>/<city>/*_leftImg8bit.png`
 * with `gtFine/<split>/<city>/*_gtFine_labelIds.png`; labelIds → the 19 trainIds (others → 255);
 * images resized bilinearly to `size` and scaled to [0, 1], labels by nearest neighbour. Every
 * example carries the exact flip distribution (`distribution`, up to 32 modes) and its unflipped
 * labels in `meta.unflipped`. Unknown labelIds (> 33) are an error naming the file.
 */
export async function openCityscapes(options: CityscapesOptions): Promise<CityscapesDataset> {
  const [h, w] = options.size ?? [256, 512];
  const graders = options.graders ?? 1;
  const seed = options.seed ?? 0;
  const onError = options.onError ?? 'throw';
  const maxPngBytes = options.maxPngBytes ?? CITYSCAPES_MAX_PNG_BYTES;
  if (!['train', 'val', 'test'].includes(options.split)) {
    throw new DataError(options.root, `unknown split "${String(options.split)}": use train, val or test (the authors' split of Cityscapes)`);
  }
  const report: SkipReport = { skipped: [] };
  const officialSplit = options.split === 'test' ? 'val' : 'train';
  const imgRoot = join(options.root, 'leftImg8bit', officialSplit);
  let cities: string[];
  try {
    cities = (await readdir(imgRoot, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    throw new DataError(imgRoot, 'not found: expected <root>/leftImg8bit/<split>/<city>/*_leftImg8bit.png');
  }
  if (options.split === 'train') cities = cities.filter((c) => !AUTHORS_VALIDATION_CITIES.includes(c));
  if (options.split === 'val') cities = cities.filter((c) => AUTHORS_VALIDATION_CITIES.includes(c));
  const items: Array<{ city: string; image: string; labels: string; stem: string }> = [];
  for (const city of cities) {
    const files = (await readdir(join(imgRoot, city))).filter((f) => f.endsWith('_leftImg8bit.png')).sort();
    const gtFiles = new Set(await readdir(join(options.root, 'gtFine', officialSplit, city)).catch(() => [] as string[]));
    for (const f of files) {
      const stem = f.slice(0, -'_leftImg8bit.png'.length);
      const gt = `${stem}_gtFine_labelIds.png`;
      if (!gtFiles.has(gt)) {
        const why = `missing its labels ${join(options.root, 'gtFine', officialSplit, city, gt)}`;
        if (onError === 'throw') throw new DataError(join(imgRoot, city, f), why);
        report.skipped.push({ file: join(imgRoot, city, f), problem: why });
        continue;
      }
      items.push({ city, stem, image: join(imgRoot, city, f), labels: join(options.root, 'gtFine', officialSplit, city, gt) });
    }
  }
  if (items.length === 0) throw new DataError(imgRoot, `no images found for the authors' ${options.split} split`);
  const spec = { channels: 3, numClasses: 24, ignoreLabel: 255, evalClasses: CITYSCAPES_EVAL_CLASSES, emptyPair: 'nan' as const };
  const lut = new Uint8Array(256).fill(255);
  for (const [id, train] of LABEL_ID_TO_TRAIN_ID) lut[id] = train;
  const ds = indexedDataset(`cityscapes(${options.split})`, items.length, spec, async (i) => {
    const it = items[i]!;
    const [img, lab] = await Promise.all([readPngWithLimit(it.image, maxPngBytes, 'maxPngBytes'), readPngWithLimit(it.labels, maxPngBytes, 'maxPngBytes')]);
    if (img.channels < 3) throw new DataError(it.image, `expected an RGB image, got ${img.channels} channel(s)`);
    if (img.width !== lab.width || img.height !== lab.height) {
      throw new DataError(it.labels, `labels are ${lab.width}×${lab.height} but the image is ${img.width}×${img.height}`);
    }
    const ids = firstChannel(lab);
    const trainIds = new Uint8Array(ids.length);
    for (let p = 0; p < ids.length; p++) {
      const v = ids[p]!;
      if (v > 33 && v !== 255) throw new DataError(it.labels, `unknown labelId ${v} at pixel ${p} (Cityscapes labelIds are 0..33)`);
      trainIds[p] = lut[v]!;
    }
    const rgb = new Float32Array(img.width * img.height * 3);
    for (let p = 0; p < img.width * img.height; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = img.data[p * img.channels + c]! / 255;
    const image = img.height === h && img.width === w ? rgb : resizeBilinear(rgb, img.height, img.width, 3, h, w);
    const base = img.height === h && img.width === w ? trainIds : resizeNearest(trainIds, img.height, img.width, h, w);
    const distribution = flipDistribution(base);
    const rng = SeededRandom.derive(seed, 4, i);
    const annotations = graders === 0 ? [base] : Array.from({ length: graders }, () => distribution[rng.categorical(distribution.map((m) => m.probability))]!.labels);
    return { id: `${it.city}/${it.stem}`, height: h, width: w, channels: 3, image, annotations, distribution, meta: { source: 'cityscapes', city: it.city, unflipped: base } };
  });
  return Object.assign(ds, { cities, report });
}
