import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { SeededRandom } from '@probunet/core/random';
import { LABEL_ID_TO_TRAIN_ID } from './cityscapes.js';

/**
 * Small trees in the exact on-disk formats of the real datasets (which cannot be downloaded on
 * the project's machines), for tests, the data-check command and trying the loaders.
 */

async function png(path: string, width: number, height: number, channels: number, data: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, encode({ width, height, channels, depth: 8, data }));
}

/**
 * LIDC crops: `<split>/images/<patient>/z-<z>_c<crop>.png` (180×180 gray) and four masks
 * `<split>/gt/<patient>/z-<z>_c<crop>_l<k>.png` (0/255), some of them empty as in LIDC.
 */
export async function writeLidcFixture(root: string, options: { patients?: number; cropsPerPatient?: number; split?: string; seed?: number } = {}): Promise<void> {
  const { patients = 2, cropsPerPatient = 2, split = 'train', seed = 0 } = options;
  const S = 180;
  for (let p = 0; p < patients; p++) {
    const patient = `LIDC-IDRI-${String(p + 1).padStart(4, '0')}`;
    for (let c = 0; c < cropsPerPatient; c++) {
      const rng = SeededRandom.derive(seed, p, c);
      const z = (-120.5 + 2.5 * c).toFixed(1);
      const stem = `z-${z}_c${c}`;
      const cy = S / 2 + rng.uniform(-10, 10);
      const cx = S / 2 + rng.uniform(-10, 10);
      const r = rng.uniform(6, 16);
      const img = new Uint8Array(S * S);
      for (let i = 0; i < S * S; i++) {
        const d2 = ((Math.floor(i / S) - cy) ** 2 + ((i % S) - cx) ** 2) / (r * r);
        img[i] = Math.max(0, Math.min(255, Math.round(80 + 90 * Math.exp(-d2) + 20 * rng.normal())));
      }
      await png(join(root, split, 'images', patient, `${stem}.png`), S, S, 1, img);
      for (let k = 0; k < 4; k++) {
        const rk = k === 3 && c === 0 ? 0 : r * rng.uniform(0.7, 1.2); // one empty grader mask
        const mask = new Uint8Array(S * S);
        for (let i = 0; i < S * S; i++) if ((Math.floor(i / S) - cy) ** 2 + ((i % S) - cx) ** 2 < rk * rk) mask[i] = 255;
        await png(join(root, split, 'gt', patient, `${stem}_l${k}.png`), S, S, 1, mask);
      }
    }
  }
}

/**
 * Cityscapes: `leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png` (RGB) and
 * `gtFine/<split>/<city>/…_gtFine_labelIds.png` (labelIds 0..33), at `size` (default the real
 * 1024×2048). Cities default to one authors'-validation city and one training city in `train`,
 * and one city in `val`.
 */
export async function writeCityscapesFixture(
  root: string,
  options: { size?: [number, number]; cities?: Record<'train' | 'val', string[]>; seed?: number } = {},
): Promise<void> {
  const [h, w] = options.size ?? [1024, 2048];
  const cities = options.cities ?? { train: ['aachen', 'ulm'], val: ['frankfurt'] };
  const trainIdToLabelId = new Map([...LABEL_ID_TO_TRAIN_ID].map(([id, t]) => [t, id]));
  const colors: Record<number, [number, number, number]> = { 0: [128, 64, 128], 1: [244, 35, 232], 2: [70, 70, 70], 8: [107, 142, 35], 10: [70, 130, 180], 11: [220, 20, 60], 13: [0, 0, 142] };
  for (const split of ['train', 'val'] as const) {
    for (const city of cities[split]) {
      const rng = SeededRandom.derive(options.seed ?? 0, city.length, split === 'train' ? 1 : 2);
      const stem = `${city}_000000_000019`;
      const ids = new Uint8Array(h * w);
      const rgb = new Uint8Array(h * w * 3);
      const carX = rng.uniform(0.2, 0.7) * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const fy = y / h;
          let t = fy < 0.2 ? 10 : fy < 0.55 ? (x < w * 0.3 ? 8 : 2) : fy < 0.65 ? 1 : 0;
          if (fy > 0.68 && fy < 0.85 && x > carX && x < carX + w * 0.15) t = 13;
          if (fy > 0.4 && fy < 0.62 && x > w * 0.8 && x < w * 0.83) t = 11;
          const i = y * w + x;
          ids[i] = fy > 0.95 ? 1 /* ego vehicle: labelId 1 → ignore */ : trainIdToLabelId.get(t)!;
          const col = colors[t]!;
          for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, col[c]! + Math.round(8 * rng.normal())));
        }
      }
      await png(join(root, 'leftImg8bit', split, city, `${stem}_leftImg8bit.png`), w, h, 3, rgb);
      await png(join(root, 'gtFine', split, city, `${stem}_gtFine_labelIds.png`), w, h, 1, ids);
    }
  }
}
