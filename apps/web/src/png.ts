import type { Picture } from './render.js';

/** Decodes a PNG with the browser's own decoder into RGBA pixels. */
async function rgba(file: File): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name} is not an image this browser can decode: open a PNG`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { data: ctx.getImageData(0, 0, width, height).data, width, height };
}

/**
 * A grey PNG as the model's one input channel, v/255. A colour image (R, G and B differ anywhere) is
 * refused: the models take one channel.
 */
export async function decodeGreyPng(file: File): Promise<Picture> {
  const { data, width, height } = await rgba(file);
  const image = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = [data[4 * p]!, data[4 * p + 1]!, data[4 * p + 2]!];
    if (r !== g || g !== b) {
      throw new Error(`${file.name} has colour (3 channels; pixel ${p % width},${Math.floor(p / width)} is rgb(${r},${g},${b})); the models take one grey channel: convert it to greyscale`);
    }
    image[p] = r / 255;
  }
  return { height, width, image };
}

/** A mask PNG of the image's size: any non-black pixel is lesion (class 1). */
export async function decodeMaskPng(file: File, height: number, width: number): Promise<Uint8Array> {
  const img = await rgba(file);
  if (img.width !== width || img.height !== height) {
    throw new Error(`${file.name} is ${img.width}×${img.height}; the annotation must match the image, ${width}×${height}`);
  }
  const out = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) out[p] = img.data[4 * p]! + img.data[4 * p + 1]! + img.data[4 * p + 2]! > 0 ? 1 : 0;
  return out;
}
