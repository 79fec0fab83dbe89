import { readFile, writeFile } from 'node:fs/promises';
import { indexedDataset, type Example, type IndexedDataset } from '../example.js';
import { DataError, type SkipReport } from '../errors.js';
import { NdArray, PickleError, unpickle, type UnpickleOptions } from '../pickle.js';
import { SeededRandom } from '@probunet/core';

export interface LidcPickleOptions {
  /** The pickle file: a dict {key: {image: float HxW, masks: [binary HxW ×4], series_uid}}. */
  file: string;
  /** Which part of a split by series_uid; omit for everything. */
  split?: 'train' | 'val' | 'test';
  /** Shares of series in train/val/test; default [0.7, 0.15, 0.15]. */
  fractions?: [number, number, number];
  /** Seed of the series shuffle before splitting. Default 0. */
  seed?: number;
  /** 'throw' (default) stops at the first malformed entry; 'skip' leaves it out and records it in `report`. */
  onError?: 'throw' | 'skip';
  /**
   * Refuse a pickle whose data, each shared reference counted as a copy, passes this many bytes
   * (a pickle bomb). Default 4 GiB (`UNPICKLE_DEFAULTS.maxDecodedBytes`); the real file is about 1.5 GB.
   */
  maxDecodedBytes?: number;
}

const SPLITS = ['train', 'val', 'test'] as const;

export interface LidcPickleDataset extends IndexedDataset {
  /** Distinct series_uid values in this split (the unit of the split: one scan each). */
  series: string[];
  /** Entries left out in 'skip' mode. */
  report: SkipReport;
}

/**
 * The LIDC crops in the PyTorch port's pickle, read in TypeScript (no Python). The split is by
 * series_uid so no scan contributes to two splits. The whole file is read into memory: the real
 * one is about 1.5 GB.
 */
export async function openLidcPickle(options: LidcPickleOptions): Promise<LidcPickleDataset> {
  if (options.split !== undefined && !SPLITS.includes(options.split)) {
    throw new DataError(options.file, `unknown split "${String(options.split)}": use train, val or test (or no split for every entry)`);
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(options.file);
  } catch (err) {
    throw new DataError(options.file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let root: unknown;
  try {
    const limits: UnpickleOptions = options.maxDecodedBytes !== undefined ? { maxDecodedBytes: options.maxDecodedBytes } : {};
    root = unpickle(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
  } catch (err) {
    throw new DataError(options.file, err instanceof PickleError ? err.message : `not a readable pickle: ${(err as Error).message}`, { cause: err });
  }
  const report: SkipReport = { skipped: [] };
  const entries = validate(root, options.file, options.onError === 'skip' ? report : undefined);
  const uids = [...new Set(entries.map((e) => e.series))].sort();
  let keep = new Set(uids);
  if (options.split) {
    const [ft, fv] = options.fractions ?? [0.7, 0.15, 0.15];
    const order = SeededRandom.derive(options.seed ?? 0, 5).shuffle([...uids]);
    const nTrain = Math.round(ft * order.length);
    const nVal = Math.round(fv * order.length);
    const parts = { train: order.slice(0, nTrain), val: order.slice(nTrain, nTrain + nVal), test: order.slice(nTrain + nVal) };
    keep = new Set(parts[options.split]);
  }
  const chosen = entries.filter((e) => keep.has(e.series));
  const spec = { channels: 1, numClasses: 2, ignoreLabel: 255, evalClasses: [1], emptyPair: 'one' as const };
  const ds = indexedDataset(`lidc-pickle(${options.split ?? 'all'})`, chosen.length, spec, async (i) => chosen[i]!.example);
  return Object.assign(ds, { series: [...keep].sort(), report });
}

function validate(root: unknown, file: string, skip?: SkipReport): Array<{ series: string; example: Example }> {
  if (typeof root !== 'object' || root === null || Array.isArray(root) || root instanceof NdArray) {
    throw new DataError(file, 'expected a dict {key: {image, masks, series_uid}} at the top of the pickle');
  }
  const out: Array<{ series: string; example: Example }> = [];
  for (const [key, value] of Object.entries(root as Record<string, unknown>)) {
    try {
      const v = value as { image?: unknown; masks?: unknown; series_uid?: unknown };
      const where = `entry "${key}"`;
      if (!(v?.image instanceof NdArray) || v.image.shape.length !== 2) throw new DataError(file, `${where}: "image" must be a 2-D numpy array`);
      if (!Array.isArray(v.masks) || v.masks.length === 0) throw new DataError(file, `${where}: "masks" must be a list of 2-D numpy arrays`);
      if (typeof v.series_uid !== 'string') throw new DataError(file, `${where}: "series_uid" must be a string`);
      const [h, w] = v.image.shape as [number, number];
      const masks = v.masks.map((m, k) => {
        if (!(m instanceof NdArray) || m.shape.length !== 2 || m.shape[0] !== h || m.shape[1] !== w) {
          throw new DataError(file, `${where}: mask ${k} must be a ${h}×${w} numpy array like the image`);
        }
        return Uint8Array.from(m.data as ArrayLike<number>, (x) => (x > 0 ? 1 : 0));
      });
      out.push({
        series: v.series_uid,
        example: { id: key, height: h, width: w, channels: 1, image: Float32Array.from(v.image.data as ArrayLike<number>), annotations: masks, meta: { source: 'lidc-pickle', series_uid: v.series_uid } },
      });
    } catch (err) {
      if (!skip || !(err instanceof DataError)) throw err;
      skip.skipped.push({ file: `${file}#${key}`, problem: err.message.slice(file.length + 2) });
    }
  }
  if (out.length === 0) throw new DataError(file, skip?.skipped.length ? `no usable entries (${skip.skipped.length} skipped)` : 'the pickle holds no entries');
  return out;
}

/**
 * Writes a tiny pickle (protocol 3) in the port's layout, for trying `openLidcPickle` and
 * `probunet data check`. Tests read pickles written by Python itself (src/node/__fixtures__).
 */
export async function writeLidcPickleFixture(path: string, options: { entries?: number; size?: number; seed?: number } = {}): Promise<void> {
  const { entries = 4, size = 128, seed = 0 } = options;
  const parts: Uint8Array[] = [Uint8Array.of(0x80, 3, 0x7d, 0x28)]; // PROTO 3, EMPTY_DICT, MARK
  const enc = new TextEncoder();
  const str = (s: string) => {
    const b = enc.encode(s);
    const head = new Uint8Array(5);
    head[0] = 0x58; // BINUNICODE
    new DataView(head.buffer).setUint32(1, b.length, true);
    parts.push(head, b);
  };
  const ndarray = (dtype: 'f4' | 'u1', data: Uint8Array) => {
    parts.push(Uint8Array.of(0x63), enc.encode('numpy.core.multiarray\n_reconstruct\n'));
    parts.push(Uint8Array.of(0x63), enc.encode('numpy\nndarray\n'), Uint8Array.of(0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52)); // (0,), b'b', TUPLE3, REDUCE
    parts.push(Uint8Array.of(0x28, 0x4b, 1, 0x4b, size, 0x4b, size, 0x86)); // MARK 1 (size, size)
    parts.push(Uint8Array.of(0x63), enc.encode('numpy\ndtype\n'));
    str(dtype);
    parts.push(Uint8Array.of(0x89, 0x88, 0x87, 0x52)); // False True TUPLE3 REDUCE
    parts.push(Uint8Array.of(0x28, 0x4b, 3));
    str(dtype === 'u1' ? '|' : '<');
    parts.push(Uint8Array.of(0x4e, 0x4e, 0x4e, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4a, 0xff, 0xff, 0xff, 0xff, 0x4b, 0, 0x74, 0x62)); // None×3, -1, -1, 0, TUPLE, BUILD
    const head = new Uint8Array(5);
    head[0] = 0x42; // BINBYTES
    new DataView(head.buffer).setUint32(1, data.length, true);
    parts.push(Uint8Array.of(0x89), head, data, Uint8Array.of(0x74, 0x62)); // False, raw, TUPLE, BUILD
  };
  for (let i = 0; i < entries; i++) {
    const rng = SeededRandom.derive(seed, 6, i);
    str(`LIDC-IDRI-${String(i).padStart(4, '0')}_slice_${i}.png`);
    parts.push(Uint8Array.of(0x7d, 0x28)); // EMPTY_DICT MARK
    str('image');
    const img = new Float32Array(size * size).map(() => rng.next());
    ndarray('f4', new Uint8Array(img.buffer));
    str('masks');
    parts.push(Uint8Array.of(0x5d, 0x28)); // EMPTY_LIST MARK
    for (let k = 0; k < 4; k++) ndarray('u1', Uint8Array.from({ length: size * size }, () => (k < 3 && rng.next() > 0.8 ? 1 : 0)));
    parts.push(Uint8Array.of(0x65)); // APPENDS
    str('series_uid');
    str(`1.3.6.1.4.1.14519.5.2.1.6279.6001.${100 + (i >> 1)}`);
    parts.push(Uint8Array.of(0x75)); // SETITEMS
  }
  parts.push(Uint8Array.of(0x75, 0x2e)); // SETITEMS STOP
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  await writeFile(path, out);
}
