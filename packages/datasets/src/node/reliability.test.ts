/**
 * The reliability suite of the data readers: hostile or damaged files (issue 18). Each case was
 * written to reproduce a defect before its fix; docs/reliability-data.md lists them with what each
 * gets now. Every file is generated here and stays small on disk and in memory.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { NdArray, PickleError, unpickle } from '../pickle.js';
import { openCityscapes, openLidc, openLidcPickle, readPng, writeCityscapesFixture, writeLidcFixture } from './index.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));
const enc = new TextEncoder();
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probunet-reliability-'));
});

/** Milliseconds `fn` takes to settle (resolve or reject). */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn().catch(() => undefined);
  return performance.now() - t0;
}

// ---- pickles ----------------------------------------------------------------------------------

/**
 * A "billion laughs" pickle: level 0 is an empty list, level i a list holding level i−1 `fanout`
 * times through the memo (BINGET), so `levels` levels expand to fanout^levels lists while the file
 * stays a few hundred bytes. Python loads it instantly (shared references stay shared).
 */
function pickleBomb(levels: number, fanout: number): Uint8Array {
  const ops: number[] = [0x80, 2, 0x7d, 0x28, 0x58, 1, 0, 0, 0, 0x61]; // PROTO 2, EMPTY_DICT, MARK, 'a'
  ops.push(0x5d, 0x71, 0, 0x30); // EMPTY_LIST, BINPUT 0, POP
  for (let i = 1; i <= levels; i++) {
    ops.push(0x28); // MARK
    for (let k = 0; k < fanout; k++) ops.push(0x68, i - 1); // BINGET i−1
    ops.push(0x6c, 0x71, i, 0x30); // LIST, BINPUT i, POP
  }
  ops.push(0x68, levels, 0x75, 0x2e); // BINGET levels, SETITEMS, STOP
  return Uint8Array.from(ops);
}

/** A protocol-2 pickle of one numpy array with any shape (dimensions as BININT, or BINFLOAT when not integers). */
function arrayPickle(shape: number[], dtype: string, raw: Uint8Array): Uint8Array {
  const parts: number[] = [0x80, 2];
  const text = (s: string) => [...enc.encode(s)];
  const str = (s: string) => [0x58, s.length, 0, 0, 0, ...text(s)];
  const int32 = (v: number) => [0x4a, ...new Uint8Array(Int32Array.of(v).buffer)];
  const float64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return [0x47, ...b];
  };
  const dim = (v: number) => (Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? int32(v) : float64(v));
  parts.push(0x63, ...text('numpy.core.multiarray\n_reconstruct\n'), 0x63, ...text('numpy\nndarray\n'));
  parts.push(0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52); // (0,), b'b', TUPLE3, REDUCE
  parts.push(0x28, 0x4b, 1, 0x28, ...shape.flatMap(dim), 0x74); // MARK 1 (shape…)
  parts.push(0x63, ...text('numpy\ndtype\n'), ...str(dtype), 0x89, 0x88, 0x87, 0x52); // dtype(…) REDUCE
  parts.push(0x28, 0x4b, 3, ...str('|'), 0x4e, 0x4e, 0x4e, ...int32(-1), ...int32(-1), 0x4b, 0, 0x74, 0x62); // dtype state, BUILD
  parts.push(0x89, 0x42, ...new Uint8Array(Uint32Array.of(raw.length).buffer), ...raw, 0x74, 0x62, 0x2e); // False, raw, TUPLE, BUILD, STOP
  return Uint8Array.from(parts);
}

describe('pickle reader on hostile pickles', () => {
  it('refuses a pickle bomb of shared references fast, with a PickleError naming the limit', async () => {
    const bomb = pickleBomb(16, 5); // 5^16 ≈ 1.5·10^11 lists if expanded; Python loads it in microseconds
    expect(bomb.length).toBeLessThan(300);
    const t0 = performance.now();
    expect(() => unpickle(bomb)).toThrow(PickleError);
    expect(() => unpickle(bomb)).toThrow(/expands to more than 4,294,967,296 bytes \(maxDecodedBytes\)/);
    expect(performance.now() - t0).toBeLessThan(500);
    const file = join(dir, 'bomb.pickle');
    await writeFile(file, bomb);
    const err = await openLidcPickle({ file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).cause).toBeInstanceOf(PickleError);
    expect((err as Error).message).toMatch(/bomb.pickle: .*maxDecodedBytes/);
  });

  it('keeps shared references shared, and a small bomb within the limit reads like Python reads it', () => {
    const root = unpickle(pickleBomb(12, 5)) as { a: unknown[][] }; // 5^12 ≈ 2.4e8 lists expanded, 13 distinct
    expect(root.a).toHaveLength(5);
    expect(root.a[0]).toBe(root.a[4]); // the same object, as in Python
    expect(() => unpickle(pickleBomb(12, 5), { maxDecodedBytes: 1e6 })).toThrow(/expands to more than 1,000,000 bytes \(maxDecodedBytes\)/);
  });

  it('refuses a self-referencing list and nesting deeper than maxDepth', () => {
    // l = []; l.append(l); pickle.dumps(l, protocol=2)
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e))).toThrow(/refers to itself/);
    // 100,000 nested lists [[[…]]]: EMPTY_LIST ×n, APPEND ×(n−1), STOP
    const n = 100_000;
    const deep = new Uint8Array(2 + 2 * n);
    deep.set([0x80, 2]);
    deep.fill(0x5d, 2, 2 + n);
    deep.fill(0x61, 2 + n, 1 + 2 * n);
    deep[1 + 2 * n] = 0x2e;
    expect(() => unpickle(deep)).toThrow(/nested deeper than 1000 levels \(maxDepth\)/);
  });

  it.each([
    { shape: [-2, -3], bytes: 6, why: /dimension -2 .* not a non-negative integer/ },
    { shape: [0, 2 ** 40], bytes: 0, why: /dimension 1099511627776 .* over 2147483647/ },
    { shape: [2.5, 2], bytes: 5, why: /dimension 2.5 .* not a non-negative integer/ },
    { shape: Array.from({ length: 40 }, () => 1), bytes: 1, why: /40 dimensions; this reader allows at most 32/ },
  ])('refuses a numpy array of shape [$shape]', ({ shape, bytes, why }) => {
    const p = arrayPickle(shape, 'u1', new Uint8Array(bytes));
    expect(() => unpickle(p)).toThrow(PickleError);
    expect(() => unpickle(p)).toThrow(why);
  });

  it('still reads a well-formed array through the same path', () => {
    const a = unpickle(arrayPickle([2, 3], 'u1', Uint8Array.of(1, 2, 3, 4, 5, 6))) as NdArray;
    expect(a.shape).toEqual([2, 3]);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads a Python-2 byte string of 1 MB without overflowing the stack', () => {
    const n = 1 << 20;
    const p = new Uint8Array(2 + 5 + n + 1);
    p.set([0x80, 2, 0x54]); // PROTO 2, BINSTRING
    new DataView(p.buffer).setUint32(3, n, true);
    p.fill(0x41, 7, 7 + n);
    p[p.length - 1] = 0x2e;
    const s = unpickle(p) as string;
    expect(s.length).toBe(n);
    expect(s.slice(0, 3)).toBe('AAA');
  });

  it.each(['lidc-tiny-protocol2.pickle', 'lidc-tiny-protocol3.pickle', 'lidc-tiny-protocol4.pickle', 'lidc-tiny-protocol5.pickle', 'lidc-tiny-python2.pickle'])(
    'reads %s (written by Python and numpy) exactly',
    async (name) => {
      const expected = JSON.parse(await readFile(fixture('lidc-tiny-expected.json'), 'utf8')).entries as Record<
        string,
        { imageSum: number; image00: number; image01: number; maskSums: number[]; series_uid: string }
      >;
      const ds = await openLidcPickle({ file: fixture(name) });
      expect(ds.length).toBe(3);
      for await (const ex of ds) {
        const e = expected[ex.id]!;
        expect(ex.meta.series_uid).toBe(e.series_uid);
        expect(ex.image[0]).toBe(Math.fround(e.image00));
        expect(ex.image[1]).toBe(Math.fround(e.image01)); // row-major even when numpy stored it Fortran-ordered
        expect(ex.image.reduce((a, b) => a + b, 0)).toBeCloseTo(e.imageSum, 3);
        expect(ex.annotations.map((a) => a.reduce((s, v) => s + v, 0))).toEqual(e.maskSums);
      }
    },
  );

  it('refuses protocol 0 and out-of-band buffers with what to do instead', async () => {
    await expect(openLidcPickle({ file: fixture('lidc-tiny-protocol0.pickle') })).rejects.toThrow(/protocol 0 or 1 .* re-save it with pickle.dump\(obj, f, protocol=4\)/);
    await expect(openLidcPickle({ file: fixture('oob-buffer-protocol5.pickle') })).rejects.toThrow(/out-of-band buffer .* without buffer_callback/);
    expect(() => unpickle(Uint8Array.of(0x80, 6, 0x4e, 0x2e))).toThrow(/protocol 6 .* supports protocols 2 to 5/);
  });
});

// ---- PNGs -------------------------------------------------------------------------------------

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(enc.encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG from its parts: IHDR for the given size and format, then one IDAT holding `idat` as is. */
function pngFile(width: number, height: number, colorType: number, bitDepth: number, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const parts = [Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** A valid 8-bit gray PNG whose deflate stream is stored (level 0), so a flipped byte changes one pixel only. */
function storedGrayPng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1); // filter 0 per row
  return pngFile(width, height, 0, 8, deflateSync(raw, { level: 0 }));
}

describe('PNG reader on hostile PNGs', () => {
  // Their IDAT is 64 bytes that are not even a zlib stream: a reader that inflated first would
  // fail on those bytes (or, given a real bomb, allocate gigabytes); the size check must come first.
  const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
  it.each([
    { what: '20000×20000 gray 8-bit', w: 20000, h: 20000, colorType: 0, depth: 8, bytes: '400,000,000' },
    { what: '8000×8000 RGBA 16-bit', w: 8000, h: 8000, colorType: 6, depth: 16, bytes: '512,000,000' },
    { what: '10000×10000 gray 8-bit', w: 10000, h: 10000, colorType: 0, depth: 8, bytes: '100,000,000' },
  ])('refuses a $what decompression bomb from its header, before inflating', async ({ w, h, colorType, depth, bytes }) => {
    const file = join(dir, `bomb-${w}x${h}x${depth}.png`);
    await writeFile(file, pngFile(w, h, colorType, depth, garbage));
    const ms = await timed(() => readPng(file));
    await expect(readPng(file)).rejects.toThrow(DataError);
    await expect(readPng(file)).rejects.toThrow(new RegExp(`bomb-${w}x${h}x${depth}.png: declares ${w}×${h} .* = ${bytes} bytes decoded, over the limit of 67,108,864 bytes \\(maxDecodedBytes\\)`));
    expect(ms).toBeLessThan(200);
  });

  it('applies the LIDC and Cityscapes limits (maxPngBytes) to every image and mask, and lets them be raised', async () => {
    const lidc = join(dir, 'lidc');
    await writeLidcFixture(lidc, { patients: 1, cropsPerPatient: 1 });
    const mask = join(lidc, 'train/gt/LIDC-IDRI-0001/z--120.5_c0_l2.png');
    await writeFile(mask, pngFile(2048, 2048, 0, 8, garbage)); // 4 MiB: over LIDC's 1 MiB default
    await expect((await openLidc({ root: lidc, split: 'train' })).get(0)).rejects.toThrow(/_l2.png: declares 2048×2048 .* over the limit of 1,048,576 bytes \(maxPngBytes\)/);
    // Raised, the limit passes and the (garbage) image data is what fails.
    await expect((await openLidc({ root: lidc, split: 'train', maxPngBytes: 8 << 20 })).get(0)).rejects.toThrow(/_l2.png: corrupt or truncated PNG/);
    await expect((await openLidc({ root: lidc, split: 'train', maxPngBytes: 1000 })).get(0)).rejects.toThrow(/declares 180×180 .* over the limit of 1,000 bytes/);

    const city = join(dir, 'cityscapes');
    await writeCityscapesFixture(city, { size: [32, 64], cities: { train: ['aachen'], val: ['frankfurt'] } });
    await writeFile(join(city, 'leftImg8bit/val/frankfurt/frankfurt_000000_000019_leftImg8bit.png'), pngFile(8192, 4096, 2, 8, garbage));
    await expect((await openCityscapes({ root: city, split: 'test', size: [32, 64] })).get(0)).rejects.toThrow(/declares 8192×4096 .* = 100,663,296 bytes decoded, over the limit of 33,554,432 bytes \(maxPngBytes\)/);
  });

  it('refuses a flipped pixel byte: by the chunk CRC, and by the zlib checksum when the CRC was fixed too', async () => {
    const pixels = Uint8Array.from({ length: 16 * 16 }, (_, i) => i & 0xff);
    const good = storedGrayPng(16, 16, pixels);
    const file = join(dir, 'flip.png');
    await writeFile(file, good);
    expect((await readPng(file)).data).toEqual(pixels);
    // The IDAT's data starts at 8 (signature) + 25 (IHDR) + 8 (length, type); stored deflate has a
    // 2-byte zlib header and a 5-byte block header, then row 0's filter byte; pixel 5 of row 0 is at +13.
    const at = 8 + 25 + 8 + 2 + 5 + 1 + 5;
    expect(good[at]).toBe(5);
    const flipped = good.slice();
    flipped[at] = flipped[at]! ^ 0x10;
    await writeFile(file, flipped);
    await expect(readPng(file)).rejects.toThrow(/flip.png: .*CRC of chunk IDAT/);
    const idatLength = new DataView(flipped.buffer).getUint32(33);
    new DataView(flipped.buffer).setUint32(33 + 8 + idatLength, crc32(flipped.subarray(37, 41 + idatLength)));
    await writeFile(file, flipped);
    await expect(readPng(file)).rejects.toThrow(DataError);
    await expect(readPng(file)).rejects.toThrow(/flip.png: .*zlib checksum/);
  });
});

// ---- splits -----------------------------------------------------------------------------------

describe('an unknown split is an error listing the splits there are', () => {
  it('for LIDC (the folders found), Cityscapes and the pickle (the authors\u2019 three)', async () => {
    const lidc = join(dir, 'lidc-splits');
    await writeLidcFixture(lidc, { patients: 1, cropsPerPatient: 1, split: 'train' });
    await writeLidcFixture(lidc, { patients: 1, cropsPerPatient: 1, split: 'val' });
    await expect(openLidc({ root: lidc, split: 'bogus' })).rejects.toThrow(/unknown split "bogus": .* has train, val/);
    const city = join(dir, 'cityscapes-splits');
    await writeCityscapesFixture(city, { size: [32, 64], cities: { train: ['aachen'], val: ['frankfurt'] } });
    await expect(openCityscapes({ root: city, split: 'bogus' as 'train' })).rejects.toThrow(/unknown split "bogus": use train, val or test/);
    await expect(openLidcPickle({ file: fixture('lidc-tiny-protocol4.pickle'), split: 'bogus' as 'train' })).rejects.toThrow(/unknown split "bogus": use train, val or test/);
  });
});
