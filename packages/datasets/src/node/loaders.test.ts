import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { openCityscapes, openLidc, writeCityscapesFixture, writeLidcFixture } from './index.js';

describe('LIDC crops', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lidc-'));
    await writeLidcFixture(root, { patients: 2, cropsPerPatient: 2 });
  });

  it('lists by patient, centre-crops 180 → 128, reads four 0/1 masks', async () => {
    const ds = await openLidc({ root, split: 'train' });
    expect(ds.length).toBe(4);
    expect(ds.patients).toEqual(['LIDC-IDRI-0001', 'LIDC-IDRI-0002']);
    const ids = await Promise.all([0, 1, 2, 3].map(async (i) => (await ds.get(i)).id));
    expect(ids).toEqual(['LIDC-IDRI-0001/z--118.0_c1', 'LIDC-IDRI-0001/z--120.5_c0', 'LIDC-IDRI-0002/z--118.0_c1', 'LIDC-IDRI-0002/z--120.5_c0']);
    const ex = await ds.get(1);
    expect([ex.height, ex.width, ex.channels]).toEqual([128, 128, 1]);
    expect(ex.annotations).toHaveLength(4);
    expect(ex.annotations.every((a) => a.length === 128 * 128 && a.every((v) => v === 0 || v === 1))).toBe(true);
    expect(ex.annotations[3]!.every((v) => v === 0)).toBe(true); // the fixture's empty grader
    expect(Math.max(...ex.image)).toBeLessThanOrEqual(1);
    const full = await (await openLidc({ root, split: 'train', crop: 0 })).get(1);
    expect(full.width).toBe(180);
    // The crop is the centre: pixel (26, 26) of the full image is (0, 0) of the crop.
    expect(ex.image[0]).toBe(full.image[26 * 180 + 26]);
  });

  it('names a missing grader file, or skips and reports it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lidc-missing-'));
    await writeLidcFixture(dir, { patients: 1, cropsPerPatient: 2 });
    await rm(join(dir, 'train/gt/LIDC-IDRI-0001/z--118.0_c1_l2.png'));
    await expect(openLidc({ root: dir, split: 'train' })).rejects.toThrow(/z--118.0_c1.png: missing grader mask: .*z--118.0_c1_l2.png/);
    const ds = await openLidc({ root: dir, split: 'train', onError: 'skip' });
    expect(ds.length).toBe(1);
    expect(ds.report.skipped).toHaveLength(1);
    expect(ds.report.skipped[0]!.problem).toMatch(/missing grader mask/);
  });

  it('names a corrupt PNG and a mask whose size differs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lidc-corrupt-'));
    await writeLidcFixture(dir, { patients: 1, cropsPerPatient: 2 });
    const img = join(dir, 'train/images/LIDC-IDRI-0001/z--120.5_c0.png');
    await writeFile(img, (await readFile(img)).subarray(0, 200));
    const ds = await openLidc({ root: dir, split: 'train' });
    await expect(ds.get(1)).rejects.toThrow(DataError);
    await expect(ds.get(1)).rejects.toThrow(/z--120.5_c0.png: corrupt or truncated PNG/);
    await writeFile(join(dir, 'train/gt/LIDC-IDRI-0001/z--118.0_c1_l0.png'), encode({ width: 10, height: 10, channels: 1, depth: 8, data: new Uint8Array(100) }));
    await expect(ds.get(0)).rejects.toThrow(/z--118.0_c1_l0.png: mask is 10×10 but its image .* is 180×180/);
  });

  it('names an empty or missing directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lidc-empty-'));
    await expect(openLidc({ root: dir, split: 'train' })).rejects.toThrow(/train\/images: not found: expected the LIDC crop layout/);
    await mkdir(join(dir, 'train/images/P1'), { recursive: true });
    await expect(openLidc({ root: dir, split: 'train' })).rejects.toThrow(/no images found/);
  });
});

describe('Cityscapes with flips', () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'cityscapes-'));
    await writeCityscapesFixture(root, { size: [128, 256] });
  });

  it('uses the authors\u2019 split: train minus darmstadt/monchengladbach/ulm, those as val, official val as test', async () => {
    expect((await openCityscapes({ root, split: 'train', size: [64, 128] })).cities).toEqual(['aachen']);
    expect((await openCityscapes({ root, split: 'val', size: [64, 128] })).cities).toEqual(['ulm']);
    expect((await openCityscapes({ root, split: 'test', size: [64, 128] })).cities).toEqual(['frankfurt']);
  });

  it('maps labelIds to trainIds (others 255), resizes, and carries the exact flip distribution', async () => {
    const ds = await openCityscapes({ root, split: 'train', size: [64, 128], graders: 2, seed: 1 });
    const ex = await ds.get(0);
    expect([ex.height, ex.width, ex.channels]).toEqual([64, 128, 3]);
    const base = ex.meta.unflipped as Uint8Array;
    expect(new Set(base)).toEqual(new Set([10, 8, 2, 1, 0, 13, 11, 255]));
    expect(base[base.length - 1]).toBe(255); // ego vehicle (labelId 1) is ignored
    expect(ex.distribution).toHaveLength(32); // all five flippable classes are present
    expect(ex.distribution!.reduce((s, m) => s + m.probability, 0)).toBeCloseTo(1, 12);
    expect(ex.annotations).toHaveLength(2);
    for (const a of ex.annotations) expect(ex.distribution!.some((m) => m.labels === a)).toBe(true);
  });

  it('names an unknown labelId and missing labels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cityscapes-bad-'));
    await writeCityscapesFixture(dir, { size: [32, 64], cities: { train: ['aachen'], val: ['frankfurt'] } });
    const lab = join(dir, 'gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png');
    await writeFile(lab, encode({ width: 64, height: 32, channels: 1, depth: 8, data: new Uint8Array(64 * 32).fill(40) }));
    const ds = await openCityscapes({ root: dir, split: 'train', size: [32, 64] });
    await expect(ds.get(0)).rejects.toThrow(/gtFine_labelIds.png: unknown labelId 40 at pixel 0/);
    await rm(lab);
    await expect(openCityscapes({ root: dir, split: 'train' })).rejects.toThrow(/missing its labels/);
    expect((await openCityscapes({ root: dir, split: 'test', onError: 'skip', size: [32, 64] })).length).toBe(1);
  });
});
