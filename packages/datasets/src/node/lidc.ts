import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { indexedDataset, type IndexedDataset } from '../example.js';
import { DataError, type SkipReport } from '../errors.js';
import { centerCrop } from '../image-ops.js';
import { firstChannel, readPngWithLimit } from './png.js';

export interface LidcOptions {
  /** Folder holding `<split>/images/<patient>/…png` and `<split>/gt/<patient>/…png`. */
  root: string;
  /** The release's split folder: 'train', 'val' or 'test'. */
  split: string;
  /** Centre crop side (the release's crops are 180×180; common practice is 128). 0 keeps the full crop. */
  crop?: number;
  /** Grader masks per image, `_l0` … `_l{graders−1}`. Default 4. */
  graders?: number;
  /** 'throw' (default) stops at the first bad file; 'skip' leaves the image out and records why in `report`. */
  onError?: 'throw' | 'skip';
  /**
   * Largest decoded PNG in bytes (width × height × channels × bit depth / 8), checked from the
   * header before decoding. Default `LIDC_MAX_PNG_BYTES` (1 MiB; the crops are 32 KB).
   */
  maxPngBytes?: number;
}

/** 1 MiB: 32 times a 180×180 8-bit crop; 1024×1024 gray or 512×512 RGBA at 8 bits. */
export const LIDC_MAX_PNG_BYTES = 2 ** 20;

export interface LidcDataset extends IndexedDataset {
  patients: string[];
  /** Files left out in 'skip' mode (at open time; decode problems surface from `get`). */
  report: SkipReport;
}

const IMAGE_NAME = /^z-(.+)_c(\d+)\.png$/;

/**
 * The LIDC-IDRI lesion crops as released with the Hierarchical Prob. U-Net:
 * `<split>/images/<patient>/z-<z>_c<crop>.png` with `<split>/gt/<patient>/z-<z>_c<crop>_l<k>.png`,
 * masks 0/255 (any non-zero value is lesion). Images become float32 in [0, 1]. The split is by
 * patient (the release's folders). Listing happens here; decoding is lazy, per `get`.
 */
export async function openLidc(options: LidcOptions): Promise<LidcDataset> {
  const { root, split } = options;
  const crop = options.crop ?? 128;
  const graders = options.graders ?? 4;
  const onError = options.onError ?? 'throw';
  const maxPngBytes = options.maxPngBytes ?? LIDC_MAX_PNG_BYTES;
  const imagesDir = join(root, split, 'images');
  const gtDir = join(root, split, 'gt');
  const report: SkipReport = { skipped: [] };
  const problem = (file: string, why: string) => {
    if (onError === 'throw') throw new DataError(file, why);
    report.skipped.push({ file, problem: why });
  };
  let patients: string[];
  try {
    patients = (await readdir(imagesDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    const splits = await lidcSplits(root);
    if (splits.length > 0) throw new DataError(root, `unknown split "${split}": ${root} has ${splits.join(', ')} (folders holding images/)`);
    throw new DataError(imagesDir, `not found: expected the LIDC crop layout <root>/${split}/images/<patient>/z-<z>_c<crop>.png`);
  }
  const items: Array<{ patient: string; image: string; masks: string[]; stem: string }> = [];
  for (const patient of patients) {
    const files = (await readdir(join(imagesDir, patient))).filter((f) => f.endsWith('.png')).sort();
    for (const file of files) {
      const image = join(imagesDir, patient, file);
      if (!IMAGE_NAME.test(file)) {
        problem(image, 'file name does not match z-<z>_c<crop>.png');
        continue;
      }
      const stem = file.slice(0, -4);
      const masks = Array.from({ length: graders }, (_, k) => join(gtDir, patient, `${stem}_l${k}.png`));
      const missing: string[] = [];
      for (const m of masks) if (!(await exists(m))) missing.push(m);
      if (missing.length > 0) {
        problem(image, `missing grader mask${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
        continue;
      }
      items.push({ patient, image, masks, stem });
    }
  }
  if (items.length === 0) {
    throw new DataError(imagesDir, report.skipped.length ? `no usable images (${report.skipped.length} skipped)` : 'no images found');
  }
  const spec = { channels: 1, numClasses: 2, ignoreLabel: 255, evalClasses: [1], emptyPair: 'one' as const };
  const ds = indexedDataset(`lidc(${split})`, items.length, spec, async (i) => {
    const it = items[i]!;
    const img = await readPngWithLimit(it.image, maxPngBytes, 'maxPngBytes');
    const gray = firstChannel(img);
    let { width, height } = img;
    let image = Float32Array.from(gray, (v) => v / 255);
    let annotations = await Promise.all(
      it.masks.map(async (m) => {
        const png = await readPngWithLimit(m, maxPngBytes, 'maxPngBytes');
        if (png.width !== width || png.height !== height) {
          throw new DataError(m, `mask is ${png.width}×${png.height} but its image ${it.image} is ${width}×${height}`);
        }
        return Uint8Array.from(firstChannel(png), (v) => (v > 0 ? 1 : 0));
      }),
    );
    if (crop > 0) {
      image = centerCrop(image, height, width, 1, crop, crop);
      annotations = annotations.map((a) => centerCrop(a, height, width, 1, crop, crop));
      width = crop;
      height = crop;
    }
    return { id: `${it.patient}/${it.stem}`, height, width, channels: 1, image, annotations, meta: { source: 'lidc', patient: it.patient, file: it.image } };
  });
  return Object.assign(ds, { patients, report });
}

/** The split folders under root: those holding an images/ folder. */
/** The split folders of an LIDC crop tree (those holding images/), sorted. */
export async function lidcSplits(root: string): Promise<string[]> {
  const dirs = await readdir(root, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const d of dirs) if (d.isDirectory() && (await stat(join(root, d.name, 'images')).catch(() => undefined))?.isDirectory()) out.push(d.name);
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
