import { readFile } from 'node:fs/promises';
import { crc32, inflateSync } from 'node:zlib';
import { decode } from 'fast-png';
import { DataError } from '../errors.js';

export interface DecodedPng {
  width: number;
  height: number;
  channels: number;
  /** 8-bit samples (16-bit PNGs are scaled down), row-major, interleaved channels. */
  data: Uint8Array;
}

export interface ReadPngOptions {
  /**
   * Largest decoded image, in bytes (width × height × channels × bit depth / 8, as the header
   * declares), checked before anything is inflated: a small file cannot claim gigabytes.
   * Default `PNG_DEFAULT_MAX_DECODED_BYTES` (64 MiB); the loaders pass limits that fit their dataset.
   */
  maxDecodedBytes?: number;
}

/** 64 MiB: 4096×4096 RGBA 8-bit, or 2048×2048 RGBA 16-bit. */
export const PNG_DEFAULT_MAX_DECODED_BYTES = 64 * 2 ** 20;

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Reads and decodes a PNG. Before decoding it checks the declared size against
 * `maxDecodedBytes`, every chunk's CRC and the image data's zlib checksum (which the decoder
 * skips), so a bomb, a flipped bit or a truncated file throws a DataError naming the file.
 */
export async function readPng(path: string, options: ReadPngOptions = {}): Promise<DecodedPng> {
  return readPngWithLimit(path, options.maxDecodedBytes ?? PNG_DEFAULT_MAX_DECODED_BYTES, 'maxDecodedBytes');
}

/** `readPng` for the loaders, whose messages name their own option (`maxPngBytes`). */
export async function readPngWithLimit(path: string, maxDecodedBytes: number, optionName: string): Promise<DecodedPng> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  verifyPng(bytes, path, maxDecodedBytes, optionName);
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
    throw new DataError(path, `corrupt or truncated PNG: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Walks the chunks: signature, IHDR first, the declared size against the limit (before any
 * inflating), each chunk's CRC-32, then inflates the image data once with zlib, which checks its
 * Adler-32 and stops at the size the header declares.
 */
function verifyPng(bytes: Uint8Array, path: string, maxDecodedBytes: number, optionName: string): void {
  const bad = (problem: string): never => {
    throw new DataError(path, `corrupt or truncated PNG: ${problem}`);
  };
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) bad('not a PNG (signature missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let rawBytes = 0;
  let end = false;
  for (let at = 8, index = 0; !end; index++) {
    if (at + 12 > bytes.length) bad(`ends at byte ${bytes.length} before its IEND chunk`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) bad(`chunk ${type} at byte ${at} runs past the end of the file`);
    const crc = view.getUint32(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== crc) bad(`CRC of chunk ${type} at byte ${at} does not match: the file is damaged`);
    if (index === 0) {
      if (type !== 'IHDR' || length !== 13) bad('the first chunk is not IHDR');
      rawBytes = checkDeclaredSize(view, at + 8, path, maxDecodedBytes, optionName);
    }
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    end = type === 'IEND';
    at += 12 + length;
  }
  if (idat.length === 0) bad('no IDAT chunk (no image data)');
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(1, rawBytes) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') bad(`image data inflates to more than the ${rawBytes.toLocaleString('en')} bytes its header declares`);
    if (/incorrect data check/.test(e.message)) bad('the zlib checksum (Adler-32) of the image data does not match: the file is damaged');
    bad(`image data is not a valid zlib stream (${e.message})`);
  }
}

/** Checks IHDR's declared size against the limit; returns the size of the filtered scanlines. */
function checkDeclaredSize(view: DataView, at: number, path: string, maxDecodedBytes: number, optionName: string): number {
  const width = view.getUint32(at);
  const height = view.getUint32(at + 4);
  const depth = view.getUint8(at + 8);
  const colorType = view.getUint8(at + 9);
  const interlaced = view.getUint8(at + 12) === 1;
  const channels = CHANNELS[colorType];
  if (channels === undefined) throw new DataError(path, `corrupt or truncated PNG: unknown colour type ${colorType}`);
  const decoded = Math.ceil((width * height * channels * depth) / 8);
  if (decoded > maxDecodedBytes) {
    throw new DataError(
      path,
      `declares ${width}×${height} pixels × ${channels} channel${channels > 1 ? 's' : ''} × ${depth} bits = ${decoded.toLocaleString('en')} bytes decoded, ` +
        `over the limit of ${maxDecodedBytes.toLocaleString('en')} bytes (${optionName}): a decompression bomb, or an image larger than this dataset's; raise ${optionName} if it is genuine`,
    );
  }
  const row = (w: number) => 1 + Math.ceil((w * channels * depth) / 8); // filter byte + samples
  if (!interlaced) return height * row(width);
  // Adam7: seven passes, each a sub-image of its own rows (empty passes have no filter bytes).
  const passes: Array<[number, number, number, number]> = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const w = Math.ceil((width - x0) / dx);
    const h = Math.ceil((height - y0) / dy);
    if (w > 0 && h > 0) total += h * row(w);
  }
  return total;
}

/** One channel of a decoded PNG (the first; for an RGB(A) mask, any channel of a gray image). */
export function firstChannel(png: DecodedPng): Uint8Array {
  if (png.channels === 1) return png.data.subarray(0, png.width * png.height);
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * png.channels]!;
  return out;
}
