import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_PROB_UNET, runCli, tempDir, writeSyntheticPngs } from './helpers.js';

describe('probunet sample / score / latent', () => {
  let root = '';
  let ckpt = '';
  let image = '';
  let annotation = '';
  beforeAll(async () => {
    root = await tempDir('infer');
    await writeFile(join(root, 'model.json'), JSON.stringify(TINY_PROB_UNET));
    const r = await runCli(['train', '--model', join(root, 'model.json'), '--data', 'synthetic-lidc', '--size', '32', '--count', '4', '--batch', '2', '--steps', '2', '--backend', 'cpu', '--out', join(root, 'run')]);
    expect(r.code, r.err).toBe(0);
    ckpt = join(root, 'run', 'model.ckpt');
    ({ image, annotation } = await writeSyntheticPngs(root));
  }, 60_000);

  it('sample writes masks, an overlay grid and uncertainty heat maps, and a JSON summary', async () => {
    const out = join(root, 'samples');
    const r = await runCli(['sample', '--checkpoint', ckpt, '--image', image, '-n', '4', '--out', out, '--backend', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ model: 'prob-unet', samples: 4, height: 32, width: 32, numClasses: 2 });
    expect(summary.classShares[0] + summary.classShares[1]).toBeCloseTo(1, 6);
    expect(summary.meanEntropyNats).toBeGreaterThanOrEqual(0);
    expect(summary.meanEntropyNats).toBeLessThanOrEqual(Math.log(2) + 1e-6);
    const files = (await readdir(out)).sort();
    expect(files).toEqual([...summary.files].sort());
    expect(files).toEqual(expect.arrayContaining(['sample-00.png', 'sample-03.png', 'overlay-grid.png', 'entropy.png', 'summary.json']));
    for (let k = 0; k < 4; k++) {
      const mask = decode(await readFile(join(out, `sample-0${k}.png`)));
      expect([mask.width, mask.height, mask.channels]).toEqual([32, 32, 1]);
      expect(new Set(mask.data).size).toBeLessThanOrEqual(2);
      expect([...mask.data].every((v) => v === 0 || v === 255)).toBe(true);
    }
    const grid = decode(await readFile(join(out, 'overlay-grid.png')));
    expect(grid.width).toBeGreaterThan(5 * 96); // image + 4 samples, 3× scaled
    const heat = decode(await readFile(join(out, 'entropy.png')));
    expect(heat.width).toBeGreaterThan(256 + 16); // map + colour scale
  }, 60_000);

  it('score prints the ELBO and the importance-sampled log-likelihood as JSON', async () => {
    const r = await runCli(['score', '--checkpoint', ckpt, '--image', image, '--annotation', annotation, '--samples', '8', '--backend', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(s).toMatchObject({ samples: 8, seed: 0, unit: 'nats' });
    // 1024 pixels, 2 classes, barely trained: the reconstruction is near 1024·ln 2 nats.
    expect(s.elbo).toBeLessThan(0);
    expect(s.elbo).toBeGreaterThan(-1024 * 5);
    expect(s.kl).toBeGreaterThanOrEqual(0);
    expect(s.logLikelihood).toBeGreaterThan(s.elbo - 1); // IWAE bound ≥ ELBO up to noise
    const text = await runCli(['score', '--checkpoint', ckpt, '--image', image, '--annotation', annotation, '--samples', '8', '--backend', 'cpu']);
    expect(text.out).toMatch(/ELBO\s+-[\d.]+ nats\nlog p\(y\|x\)\s+-[\d.]+ nats/);
  }, 60_000);

  it('latent writes a labelled traversal grid', async () => {
    const out = join(root, 'latent.png');
    const r = await runCli(['latent', '--checkpoint', ckpt, '--image', image, '--out', out, '--steps', '3', '--backend', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ out, dims: [0, 1], offsets: [-2, 0, 2] });
    const png = decode(await readFile(out));
    expect(png.width).toBeGreaterThan(3 * 96);
    expect(png.height).toBeGreaterThan(2 * 96);
    expect((await runCli(['latent', '--checkpoint', ckpt, '--image', image, '--out', out])).code).toBe(2); // exists
  }, 60_000);
});
