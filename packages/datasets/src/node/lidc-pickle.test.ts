import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openLidcPickle, writeLidcPickleFixture } from './lidc-pickle.js';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('LIDC pickle (the PyTorch port\u2019s format)', () => {
  it.each(['lidc-tiny-protocol4.pickle', 'lidc-tiny-protocol2.pickle'])('reads %s, written by Python and numpy, exactly', async (name) => {
    const expected = JSON.parse(await readFile(fixture('lidc-tiny-expected.json'), 'utf8')).entries as Record<
      string,
      { imageSum: number; image00: number; image01: number; maskSums: number[]; series_uid: string }
    >;
    const ds = await openLidcPickle({ file: fixture(name) });
    expect(ds.length).toBe(3);
    for await (const ex of ds) {
      const e = expected[ex.id]!;
      expect(ex.meta.series_uid).toBe(e.series_uid);
      expect([ex.height, ex.width]).toEqual([32, 32]);
      expect(ex.image[0]).toBe(Math.fround(e.image00));
      expect(ex.image[1]).toBe(Math.fround(e.image01));
      expect(ex.image.reduce((a, b) => a + b, 0)).toBeCloseTo(e.imageSum, 3);
      expect(ex.annotations.map((a) => a.reduce((s, v) => s + v, 0))).toEqual(e.maskSums);
    }
  });

  it('splits by series_uid, never by image', async () => {
    const parts = await Promise.all((['train', 'val', 'test'] as const).map((split) => openLidcPickle({ file: fixture('lidc-tiny-protocol4.pickle'), split, fractions: [0.5, 0, 0.5] })));
    const series = parts.map((p) => p.series);
    expect(series.flat().sort()).toEqual(['1.3.6.1.4.1.14519.5.2.1.6279.6001.100', '1.3.6.1.4.1.14519.5.2.1.6279.6001.200']);
    expect(parts.reduce((a, p) => a + p.length, 0)).toBe(3);
    for (const p of parts) for await (const ex of p) expect(p.series).toContain(ex.meta.series_uid);
  });

  it('reads its own fixture writer\u2019s pickle', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'pickle-')), 'lidc.pickle');
    await writeLidcPickleFixture(file, { entries: 4, size: 16 });
    const ds = await openLidcPickle({ file });
    expect(ds.length).toBe(4);
    expect(ds.series).toHaveLength(2);
    expect((await ds.get(0)).annotations).toHaveLength(4);
  });

  it('names a truncated file, another structure, and a disallowed global', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pickle-bad-'));
    const bytes = await readFile(fixture('lidc-tiny-protocol4.pickle'));
    await writeFile(join(dir, 'cut.pickle'), bytes.subarray(0, 5000));
    await expect(openLidcPickle({ file: join(dir, 'cut.pickle') })).rejects.toThrow(/cut.pickle: truncated pickle/);
    // pickle.dumps([1, 2, 3], protocol=2)
    await writeFile(join(dir, 'list.pickle'), Uint8Array.of(0x80, 2, 0x5d, 0x71, 0, 0x28, 0x4b, 1, 0x4b, 2, 0x4b, 3, 0x65, 0x2e));
    await expect(openLidcPickle({ file: join(dir, 'list.pickle') })).rejects.toThrow(/list.pickle: expected a dict \{key: \{image, masks, series_uid\}\}/);
    // pickle.dumps(os.system, protocol=2): a global that could run code
    await writeFile(join(dir, 'evil.pickle'), Uint8Array.from([0x80, 2, 0x63, ...new TextEncoder().encode('posix\nsystem\n'), 0x71, 0, 0x2e]));
    await expect(openLidcPickle({ file: join(dir, 'evil.pickle') })).rejects.toThrow(/refers to posix.system, which this reader does not allow/);
    // pickle.dumps({'a': {'image': 'x', 'masks': [], 'series_uid': 's'}}, protocol=2), by hand
    const enc = new TextEncoder();
    const str = (t: string) => [0x58, t.length, 0, 0, 0, ...enc.encode(t)];
    const bad = Uint8Array.from([0x80, 2, 0x7d, 0x28, ...str('a'), 0x7d, 0x28, ...str('image'), ...str('x'), ...str('masks'), 0x5d, ...str('series_uid'), ...str('s'), 0x75, 0x75, 0x2e]);
    await writeFile(join(dir, 'bad-entry.pickle'), bad);
    await expect(openLidcPickle({ file: join(dir, 'bad-entry.pickle') })).rejects.toThrow(/bad-entry.pickle: entry "a": "image" must be a 2-D numpy array/);
    await expect(openLidcPickle({ file: join(dir, 'bad-entry.pickle'), onError: 'skip' })).rejects.toThrow(/no usable entries \(1 skipped\)/);
  });
});
