import { viridis } from '@probunet/colour-maps';
import type { RgbImage } from './labelled-figure.js';

/** A map of values as colours (viridis): `min` → dark purple, `max` → yellow. */
export function heatImage(values: ArrayLike<number>, width: number, height: number, min: number, max: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  const span = max - min || 1;
  for (let i = 0; i < width * height; i++) rgb.set(viridis((values[i]! - min) / span), i * 3);
  return { width, height, rgb };
}

/** Distinct colours for class ids (class 0, the background, is never drawn over the image). */
const PALETTE: Array<[number, number, number]> = [
  [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60],
  [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40], [255, 250, 200], [128, 0, 0], [170, 255, 195], [128, 128, 0], [255, 215, 180], [0, 0, 128],
];

/** The colour of class k: the palette for the first 20, then hues spaced by the golden angle. */
export function classColour(k: number): [number, number, number] {
  if (k < PALETTE.length) return PALETTE[k]!;
  const h = ((k * 137.508) % 360) / 60;
  const x = 1 - Math.abs((h % 2) - 1);
  const [r, g, b] = [[1, x, 0], [x, 1, 0], [0, 1, x], [0, x, 1], [x, 0, 1], [1, 0, x]][Math.floor(h) % 6]!;
  // Value 0.85, saturation 0.7: distinct from the palette's pure colours and readable on white.
  return [r!, g!, b!].map((c) => Math.round(255 * 0.85 * (1 - 0.7 + 0.7 * c))) as [number, number, number];
}

/** A label map in class colours; the ignore label in mid gray. */
export function labelImage(labels: ArrayLike<number>, width: number, height: number, ignoreLabel: number | undefined): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(labels[i] === ignoreLabel ? [128, 128, 128] : classColour(labels[i]!), i * 3);
  return { width, height, rgb };
}

/**
 * A gray image (values in [0, 1] per pixel, channels averaged) with a label map blended over it:
 * each class > 0 in its palette colour at half opacity; the ignore label is left out.
 */
export function overlayImage(image: Float32Array, channels: number, labels: ArrayLike<number>, width: number, height: number, ignoreLabel: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    let g = 0;
    for (let c = 0; c < channels; c++) g += image[i * channels + c]!;
    const gray = 255 * Math.min(1, Math.max(0, g / channels));
    const k = labels[i]!;
    const col = k > 0 && k !== ignoreLabel ? classColour(k) : undefined;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(col ? 0.5 * gray + 0.5 * col[c]! : gray);
  }
  return { width, height, rgb };
}
