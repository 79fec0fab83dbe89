import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '@probunet/core/node';
import { decode } from 'fast-png';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/index.js';

describe('probunet CLI', () => {
  let out = '';
  beforeEach(() => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it('demo trains, checkpoints, evaluates and writes a report and figures', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'probunet-cli-')), 'run');
    const code = await main(['demo', '--out', dir, '--steps', '4', '--train-images', '16', '--test-images', '3', '--samples', '4', '--backend', 'wasm']);
    expect(code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['model.ckpt', 'report.json', 'samples.png', 'training-curve.png', 'training-curve.svg']);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.training.steps).toBe(4);
    expect(report.history).toHaveLength(4);
    expect(report.evaluation.gedVsDistribution.count).toBe(3);
    expect(report.evaluation.gedVsDistribution.mean).toBeGreaterThanOrEqual(0);
    expect(report.evaluation.modeShares.reduce((s: number, m: { trueProbability: number }) => s + m.trueProbability, 0)).toBeCloseTo(1, 9);
    // samples.png: 3 test images, each a row of image | 4 graders | 4 samples (96-px cells) under labels.
    const png = decode(await readFile(join(dir, 'samples.png')));
    expect(png.width).toBeGreaterThan(9 * 96);
    expect(png.height).toBeGreaterThan(3 * 96);
    const curve = await readFile(join(dir, 'training-curve.svg'), 'utf8');
    expect(curve).toMatch(/^<svg[\s\S]*<\/svg>$/);
    for (const text of ['Training: −ELBO terms (log scale)', 'step', 'loss term', 'reconstruction', 'KL']) expect(curve).toContain(`>${text}<`);
    // One line mark per term.
    expect(curve.match(/class="mark-line role-mark/g)).toHaveLength(2);
    expect(decode(await readFile(join(dir, 'training-curve.png'))).width).toBeGreaterThan(1000);
    const restored = await loadCheckpoint(join(dir, 'model.ckpt'));
    expect(restored.trainerState?.state.step).toBe(4);
    restored.model.dispose();
    expect(out).toMatch(/GED vs true distribution/);
    // The deterministic U-Net beside it: one answer, so its samples never differ.
    expect(report.baseline).toMatchObject({ model: 'deterministic-unet', steps: 4, sampleDiversity: 0 });
    expect(report.baseline.gedVsDistribution).toBeGreaterThanOrEqual(0);
    expect(out).toMatch(/deterministic U-Net \(same data, steps and scoring\): GED vs true distribution \d/);
  }, 120_000);

  it('backends --json reports the selection and the reasons', async () => {
    expect(await main(['backends', '--json', '--backend', 'cpu'])).toBe(0);
    const report = JSON.parse(out);
    expect(report.selected).toBe('cpu');
    expect(report.candidates).toHaveLength(7);
    expect(report.candidates.map((c: { name: string }) => c.name)).toEqual(['node-gpu', 'node', 'webgpu', 'native', 'wasm-native', 'wasm', 'cpu']);
  });

  it.each(['lidc', 'cityscapes', 'lidc-pickle'])('data fixtures + data check --source %s', async (source) => {
    const dir = await mkdtemp(join(tmpdir(), `probunet-data-${source}-`));
    const target = source === 'lidc-pickle' ? join(dir, 'lidc.pickle') : dir;
    expect(await main(['data', 'fixtures', '--source', source, '--out', target])).toBe(0);
    out = '';
    const split = source === 'cityscapes' ? ['--split', 'test'] : [];
    expect(await main(['data', 'check', '--source', source, '--root', target, ...split])).toBe(0);
    const summary = JSON.parse(out);
    expect(summary.problems).toEqual([]);
    expect(summary.images).toBeGreaterThan(0);
    if (source === 'lidc') {
      expect(summary).toMatchObject({ images: 4, patients: 2, annotationsPerImage: { 4: 4 }, sizes: { '128x128x1': 4 } });
      expect(summary.emptyMaskShare).toBeCloseTo(2 / 16, 9); // one empty grader mask per patient
    }
    if (source === 'cityscapes') expect(summary).toMatchObject({ images: 1, cities: ['frankfurt'], sizes: { '256x512x3': 1 } });
    if (source === 'lidc-pickle') expect(summary).toMatchObject({ images: 4, annotationsPerImage: { 4: 4 } });
  }, 60_000);

  it('data check without --split checks every split present, per split and in total', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-data-splits-'));
    await main(['data', 'fixtures', '--source', 'lidc', '--out', dir]);
    await cp(join(dir, 'train'), join(dir, 'val'), { recursive: true });
    out = '';
    expect(await main(['data', 'check', '--source', 'lidc', '--root', dir])).toBe(0);
    const summary = JSON.parse(out);
    expect(Object.keys(summary.splits)).toEqual(['train', 'val']);
    expect(summary.splits.val).toMatchObject({ name: 'lidc(val)', images: 4, patients: 2 });
    expect(summary.total).toEqual({ splits: 2, images: 8, problems: 0 });
  });

  it('data check reports bad files instead of stopping, and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-data-bad-'));
    await main(['data', 'fixtures', '--source', 'lidc', '--out', dir]);
    await rm(join(dir, 'train/gt/LIDC-IDRI-0001/z--120.5_c0_l1.png'));
    out = '';
    expect(await main(['data', 'check', '--source', 'lidc', '--root', dir])).toBe(1);
    const summary = JSON.parse(out);
    expect(summary.images).toBe(3);
    expect(summary.problems).toHaveLength(1);
    expect(summary.problems[0].problem).toMatch(/missing grader mask/);
  });

  it('bad input gets a clear error and a non-zero exit', async () => {
    expect(await main(['frobnicate'])).toBe(2);
    await expect(main(['demo', '--steps', 'zero'])).rejects.toThrow(/--steps must be an integer ≥ 1, got zero/);
    await expect(main(['backends', '--backend', 'tpu'])).rejects.toThrow(/unknown backend "tpu"/);
  });
});
