/** Drawing images, label maps and scalar maps onto canvases (at the data's own resolution; CSS scales them up). */
import { viridis } from '@probunet/colour-maps';

export interface Picture {
  height: number;
  width: number;
  /** Grey image in [0, 1]-ish units (row-major, one channel). */
  image: Float32Array;
}

function contextOf(canvas: HTMLCanvasElement, height: number, width: number): CanvasRenderingContext2D {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  return ctx;
}

/** The grey image, contrast-stretched to its own range; labels (class ≥ 1) overlaid in colour. */
export function drawOverlay(canvas: HTMLCanvasElement, pic: Picture, labels?: ArrayLike<number>): void {
  const { height, width, image } = pic;
  const ctx = contextOf(canvas, height, width);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < height * width; p++) {
    const g = Math.round((255 * (image[p]! - lo)) / span);
    const on = labels ? labels[p]! >= 1 : false;
    img.data[4 * p] = on ? Math.round(0.45 * g + 0.55 * 255) : g;
    img.data[4 * p + 1] = on ? Math.round(0.45 * g + 0.55 * 40) : g;
    img.data[4 * p + 2] = on ? Math.round(0.45 * g + 0.55 * 40) : g;
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A scalar map in [0, max], coloured with viridis. */
export function drawScalarMap(canvas: HTMLCanvasElement, height: number, width: number, values: ArrayLike<number>, max: number): void {
  const ctx = contextOf(canvas, height, width);
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < height * width; p++) {
    const [r, g, b] = viridis(max > 0 ? values[p]! / max : 0);
    img.data[4 * p] = r;
    img.data[4 * p + 1] = g;
    img.data[4 * p + 2] = b;
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A horizontal colour bar for drawScalarMap's scale. */
export function drawColourBar(canvas: HTMLCanvasElement): void {
  const ctx = contextOf(canvas, 1, 64);
  const img = ctx.createImageData(64, 1);
  for (let x = 0; x < 64; x++) {
    const [r, g, b] = viridis(x / 63);
    img.data.set([r, g, b, 255], 4 * x);
  }
  ctx.putImageData(img, 0, 0);
}
