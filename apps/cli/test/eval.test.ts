import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';
import { TINY_PROB_UNET, runCli, tempDir } from './helpers.js';

/** Width and height of a PNG file (decoding it checks that it is one). */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const { width, height } = decode(await readFile(path));
  return { width, height };
}

describe('probunet eval / merge', () => {
  let root = '';
  let ckpt = '';
  beforeAll(async () => {
    root = await tempDir('eval');
    await writeFile(join(root, 'model.json'), JSON.stringify(TINY_PROB_UNET));
    const r = await runCli(['train', '--model', join(root, 'model.json'), '--data', 'synthetic-lidc', '--size', '32', '--count', '4', '--batch', '2', '--steps', '2', '--backend', 'cpu', '--out', join(root, 'run')]);
    expect(r.code, r.err).toBe(0);
    ckpt = join(root, 'run', 'model.ckpt');
  }, 60_000);

  const evalArgs = (out: string, extra: string[] = []) => ['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--size', '32', '--count', '6', '--samples', '1,4', '--backend', 'cpu', '--out', out, ...extra];

  it('writes results.json with the protocol card, per-image values and aggregates, and the figures', async () => {
    const out = join(root, 'eval');
    const r = await runCli([...evalArgs(out), '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.images).toBe(6);
    expect(summary.bySampleCount.map((s: { samples: number }) => s.samples)).toEqual([1, 4]);
    // Synthetic LIDC knows its modes (mode frequencies) but has no flips (no calibration figure).
    const files = ['ged-vs-samples.png', 'ged-vs-samples.svg', 'mode-frequencies.png', 'mode-frequencies.svg', 'results.json', 'samples.png'];
    expect((await readdir(out)).sort()).toEqual(files);
    expect([...summary.files].sort()).toEqual(files);
    const result = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(result.card.format).toBe('probunet-evaluation');
    expect(result.card.protocol.sampleCounts).toEqual([1, 4]);
    expect(result.perImage).toHaveLength(6);
    const ged = result.bySampleCount[1].metrics.gedGraders;
    expect(ged.count).toBe(6);
    expect(ged.mean).toBeGreaterThanOrEqual(0);
    expect(ged.mean).toBeLessThanOrEqual(2);
    // GED against the true distribution is known for the synthetic data, and the oracle floor too.
    expect(result.bySampleCount[1].metrics.gedDistribution.count).toBe(6);
    const gedSvg = await readFile(join(out, 'ged-vs-samples.svg'), 'utf8');
    for (const text of ['Generalized energy distance versus number of samples', 'samples per image', 'GED (d = 1 − IoU)', 'vs the graders', 'vs the true distribution', 'oracle floor', 'prob-unet on synthetic-lidc']) {
      expect(gedSvg).toContain(text);
    }
    expect((await pngSize(join(out, 'ged-vs-samples.png'))).width).toBeGreaterThan(600);
    expect(await readFile(join(out, 'mode-frequencies.svg'), 'utf8')).toContain('Mode frequencies');
    // samples.png: 4 rows (the default --grid) of image | 4 graders | 4 samples, 96-px cells.
    const grid = await pngSize(join(out, 'samples.png'));
    expect(grid.width).toBeGreaterThan(9 * 96);
    expect(grid.height).toBeGreaterThan(4 * 96);
    // An existing folder is refused without --force.
    const again = await runCli(evalArgs(out));
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--out .* exists: pass --force/);
  }, 120_000);

  it('two shards merged equal the unsharded run', async () => {
    const parts = [0, 1].map((k) => join(root, `part${k}`));
    for (const [k, out] of parts.entries()) {
      const r = await runCli(evalArgs(out, ['--shard', `${k}/2`]));
      expect(r.code, r.err).toBe(0);
    }
    const merged = join(root, 'merged');
    const m = await runCli(['merge', ...parts.map((p) => join(p, 'results.json')), '--out', merged]);
    expect(m.code, m.err).toBe(0);
    const whole = JSON.parse(await readFile(join(root, 'eval', 'results.json'), 'utf8'));
    const joined = JSON.parse(await readFile(join(merged, 'results.json'), 'utf8'));
    expect(joined.perImage).toEqual(whole.perImage);
    expect(joined.bySampleCount).toEqual(whole.bySampleCount);
    // The merged folder has the figures the results give; samples.png needs samples, which only the parts had.
    expect((await readdir(merged)).sort()).toEqual(['ged-vs-samples.png', 'ged-vs-samples.svg', 'mode-frequencies.png', 'mode-frequencies.svg', 'results.json']);
    expect(await readdir(parts[0]!)).toContain('samples.png');
    // A missing shard is refused, naming it.
    const lone = await runCli(['merge', join(parts[0]!, 'results.json'), '--out', join(root, 'lone')]);
    expect(lone.code).not.toBe(0);
    expect(lone.err).toMatch(/shard/i);
  }, 180_000);

  it('Cityscapes-like data: calibration bars, the flip modes and a sample grid in class colours', async () => {
    const model = join(root, 'city.json');
    await writeFile(model, JSON.stringify({ ...TINY_PROB_UNET, inputChannels: 3, numClasses: 24 }));
    const data = ['--data', 'synthetic-cityscapes', '--size', '32', '--backend', 'cpu'];
    const t = await runCli(['train', '--model', model, ...data, '--count', '2', '--batch', '1', '--steps', '1', '--out', join(root, 'city-run')]);
    expect(t.code, t.err).toBe(0);
    const out = join(root, 'city-eval');
    const r = await runCli(['eval', '--checkpoint', join(root, 'city-run', 'model.ckpt'), ...data, '--count', '3', '--samples', '2', '--grid', '2', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/calibration\.png/);
    const cal = await readFile(join(out, 'calibration.svg'), 'utf8');
    for (const text of ['Flip calibration', 'sidewalk 1→19', 'road 0→23', 'probability of the flip']) expect(cal).toContain(text);
    expect((await pngSize(join(out, 'calibration.png'))).height).toBeGreaterThan(300);
    // The 32-mode figure needs images with all five flippable classes; without one there is no table to draw.
    const full = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).flipCalibration.fullModes.images;
    if (full > 0) expect(await readFile(join(out, 'mode-frequencies.svg'), 'utf8')).toContain('mode digits, left to right: sidewalk, person, car, vegetation, road');
    else expect(r.out).not.toMatch(/mode-frequencies/);
    // 2 rows (--grid 2) of image | 1 grader | 2 samples; the 64-px-wide images are drawn at scale 2.
    const grid = await pngSize(join(out, 'samples.png'));
    expect(grid.width).toBeGreaterThan(4 * 128);
    expect(grid.height).toBeGreaterThan(2 * 64);
    expect(grid.height).toBeLessThan(3 * 64 + 150);
  }, 120_000);

  it('score --data assesses every grader of every image: CSV, JSON and the least plausible', async () => {
    const out = join(root, 'assessment');
    const r = await runCli(['score', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--size', '32', '--count', '3', '--samples', '4', '--worst', '2', '--backend', 'cpu', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.images).toBe(3);
    expect(summary.perGrader).toHaveLength(4);
    expect(summary.leastPlausible).toHaveLength(2);
    expect(summary.leastPlausible[0].logLikelihood).toBeLessThanOrEqual(summary.leastPlausible[1].logLikelihood);
    const csv = (await readFile(join(out, 'annotations.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('index,id,grader,elbo,logLikelihood,kl');
    expect(csv).toHaveLength(1 + 3 * 4);
    const assessment = JSON.parse(await readFile(join(out, 'assessment.json'), 'utf8'));
    expect(assessment.annotations).toHaveLength(12);
    for (const a of assessment.annotations) expect(Number.isFinite(a.logLikelihood) && a.kl >= 0).toBe(true);
  }, 120_000);

  it('bad input is one line and exit 2', async () => {
    const bad = await runCli(['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--samples', '0,4', '--out', join(root, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--samples takes positive integers/);
    const shard = await runCli(['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--shard', '2/2', '--out', join(root, 'y')]);
    expect(shard.code).toBe(2);
    expect(shard.err).toMatch(/--shard takes k\/N with 0 ≤ k < N/);
    const help = await runCli(['merge', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/probunet merge part0\/results.json/);
  });
});
