import { indexedDataset, type Example, type IndexedDataset } from './example.js';
import { SeededRandom } from '@probunet/core/random';

export interface AugmentOptions {
  /** Flip left–right with probability ½. Default true. */
  mirror?: boolean;
  /** Rotate by an angle drawn uniformly in ±this many degrees. Default 0. */
  rotationDegrees?: number;
  /** Zoom by a factor drawn uniformly in [min, max]. Default [1, 1]. */
  scale?: [number, number];
  /** Random crop to [height, width] (after the geometric transform). Default: no crop. */
  crop?: [number, number];
  /** Raise the image (clamped to ≥ 0) to a power drawn uniformly in [min, max]. Default: none. */
  gamma?: [number, number];
  /** Smooth random displacement: a grid×grid field of N(0, alpha) pixel offsets, bilinearly interpolated. Default off. */
  elastic?: { alpha: number; grid: number };
  /** Label of pixels that come from outside the image. Default 255 (ignored by the loss and metrics). */
  fillLabel?: number;
}

/**
 * One random draw of the augmentations the authors' pipeline uses, applied identically to the
 * image, every annotation, every mode of a known distribution and `meta.unflipped`. The image is
 * resampled bilinearly, labels by nearest neighbour; pixels from outside get `fillLabel` (labels)
 * and 0 (image).
 */
export function augmentExample(ex: Example, rng: SeededRandom, options: AugmentOptions = {}): Example {
  const { height: h, width: w, channels: c } = ex;
  const [oh, ow] = options.crop ?? [h, w];
  if (oh > h || ow > w) throw new RangeError(`crop ${oh}×${ow} is larger than the ${h}×${w} image`);
  const mirror = (options.mirror ?? true) && rng.next() < 0.5;
  const angle = ((options.rotationDegrees ?? 0) * (2 * rng.next() - 1) * Math.PI) / 180;
  const [s0, s1] = options.scale ?? [1, 1];
  const zoom = s0 + (s1 - s0) * rng.next();
  const y0 = Math.floor(rng.next() * (h - oh + 1));
  const x0 = Math.floor(rng.next() * (w - ow + 1));
  const gamma = options.gamma ? options.gamma[0] + (options.gamma[1] - options.gamma[0]) * rng.next() : 1;
  const fill = options.fillLabel ?? 255;
  const field = options.elastic ? elasticField(rng, options.elastic, oh, ow) : undefined;

  // For each output pixel, the source coordinate: inverse rotation and zoom about the centre.
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
  const sy = new Float32Array(oh * ow);
  const sx = new Float32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const i = y * ow + x;
      const yy = y + y0 - cy + (field ? field.dy[i]! : 0);
      let xx = x + x0 - cx + (field ? field.dx[i]! : 0);
      if (mirror) xx = -xx;
      sy[i] = cos * yy - sin * xx + cy;
      sx[i] = sin * yy + cos * xx + cx;
    }
  }
  const image = new Float32Array(oh * ow * c);
  for (let i = 0; i < oh * ow; i++) {
    const fy = sy[i]!;
    const fx = sx[i]!;
    if (fy < 0 || fy > h - 1 || fx < 0 || fx > w - 1) continue;
    const ya = Math.floor(fy);
    const xa = Math.floor(fx);
    const yb = Math.min(ya + 1, h - 1);
    const xb = Math.min(xa + 1, w - 1);
    const wy = fy - ya;
    const wx = fx - xa;
    for (let k = 0; k < c; k++) {
      const v =
        (1 - wy) * ((1 - wx) * ex.image[(ya * w + xa) * c + k]! + wx * ex.image[(ya * w + xb) * c + k]!) +
        wy * ((1 - wx) * ex.image[(yb * w + xa) * c + k]! + wx * ex.image[(yb * w + xb) * c + k]!);
      image[i * c + k] = gamma === 1 ? v : Math.max(0, v) ** gamma;
    }
  }
  const cache = new Map<Uint8Array, Uint8Array>();
  const warpLabels = (labels: Uint8Array): Uint8Array => {
    const hit = cache.get(labels);
    if (hit) return hit;
    const out = new Uint8Array(oh * ow);
    for (let i = 0; i < oh * ow; i++) {
      const ry = Math.round(sy[i]!);
      const rx = Math.round(sx[i]!);
      out[i] = ry < 0 || ry >= h || rx < 0 || rx >= w ? fill : labels[ry * w + rx]!;
    }
    cache.set(labels, out); // annotations that are the same mode stay the same object
    return out;
  };
  const meta: Record<string, unknown> = { ...ex.meta, augmentation: { mirror, rotationDegrees: (angle * 180) / Math.PI, zoom, crop: [y0, x0, oh, ow], gamma } };
  if (meta.unflipped instanceof Uint8Array) meta.unflipped = warpLabels(meta.unflipped);
  return {
    ...ex,
    height: oh,
    width: ow,
    image,
    annotations: ex.annotations.map(warpLabels),
    ...(ex.distribution ? { distribution: ex.distribution.map((m) => ({ ...m, labels: warpLabels(m.labels) })) } : {}),
    meta,
  };
}

function elasticField(rng: SeededRandom, { alpha, grid }: { alpha: number; grid: number }, h: number, w: number) {
  const g = Math.max(2, grid);
  const gy = Array.from({ length: g * g }, () => alpha * rng.normal());
  const gx = Array.from({ length: g * g }, () => alpha * rng.normal());
  const dy = new Float32Array(h * w);
  const dx = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const fy = (y / Math.max(1, h - 1)) * (g - 1);
    const ya = Math.min(Math.floor(fy), g - 2);
    const wy = fy - ya;
    for (let x = 0; x < w; x++) {
      const fx = (x / Math.max(1, w - 1)) * (g - 1);
      const xa = Math.min(Math.floor(fx), g - 2);
      const wx = fx - xa;
      const at = (arr: number[]) =>
        (1 - wy) * ((1 - wx) * arr[ya * g + xa]! + wx * arr[ya * g + xa + 1]!) + wy * ((1 - wx) * arr[(ya + 1) * g + xa]! + wx * arr[(ya + 1) * g + xa + 1]!);
      dy[y * w + x] = at(gy);
      dx[y * w + x] = at(gx);
    }
  }
  return { dy, dx };
}

/**
 * A dataset whose examples are augmented on every fetch: the n-th fetch of index i draws from
 * SeededRandom.derive(seed, i, n), so a deterministic training loop sees the same augmentations every run
 * and new ones every epoch.
 */
export function augmented(dataset: IndexedDataset, options: AugmentOptions & { seed?: number }): IndexedDataset {
  const visits = new Map<number, number>();
  return indexedDataset(`${dataset.name}+augment`, dataset.length, dataset.spec, async (i) => {
    const n = visits.get(i) ?? 0;
    visits.set(i, n + 1);
    return augmentExample(await dataset.get(i), SeededRandom.derive(options.seed ?? 0, 7, i, n), options);
  });
}
