import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';
import { DataError } from '../errors.js';

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  /** 8-bit samples (16-bit PNGs are scaled down), row-major, interleaved channels. */
  data: Uint8Array;
}

/** Reads and decodes a PNG; a missing, truncated or corrupt file throws a DataError naming it. */
export async function readPng(path: string): Promise<DecodedPng> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const png = decode(bytes);
    const { width, height, channels, depth } = png;
    if (png.palette) throw new Error('palette PNGs are not supported: save as grayscale or RGB');
    let data: Uint8Array;
    if (depth === 8) data = png.data as Uint8Array;
    else if (depth === 16) data = Uint8Array.from(png.data as Uint16Array, (v) => v >> 8);
    else if (depth === 1) data = Uint8Array.from(png.data as Uint8Array, (v) => (v ? 255 : 0));
    else throw new Error(`unsupported bit depth ${depth}`);
    if (data.length < width * height * channels) throw new Error('image data is shorter than its header says');
    return { width, height, channels, data };
  } catch (err) {
    throw new DataError(path, `corrupt or truncated PNG: ${(err as Error).message}`);
  }
}

/** One channel of a decoded PNG (the first; for an RGB(A) mask, any channel of a gray image). */
export function firstChannel(png: DecodedPng): Uint8Array {
  if (png.channels === 1) return png.data.subarray(0, png.width * png.height);
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * png.channels]!;
  return out;
}
