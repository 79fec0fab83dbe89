import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@probunet/backends';
import { createProbUNet } from '@probunet/core';
import { createSyntheticCityscapes, createSyntheticLidc, type Example, type IndexedDataset } from '@probunet/datasets';
import { evaluateSampler, type Evaluation } from '@probunet/evaluation';
import { decode } from 'fast-png';
import { recordImageFlips, summarizeFlipCalibration, type LabelMap } from '@probunet/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { CITYSCAPES_CLASSES, calibrationFigure, gedVersusSamplesFigure, modeFrequencyFigure, sampleGridFigure, writeFigure, type SampleGridRow } from '../src/figures/evaluation-figures.js';

/** An untrained tiny Prob. U-Net evaluated on a few synthetic images, keeping each image's samples. */
async function evaluateTiny(dataset: IndexedDataset, channels: number, numClasses: number): Promise<{ evaluation: Evaluation; rows: SampleGridRow[] }> {
  const model = createProbUNet({ inputChannels: channels, numClasses, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 1 });
  const rows: SampleGridRow[] = [];
  try {
    const evaluation = await evaluateSampler(model, dataset, {
      sampleCounts: [1, 4],
      seed: 2,
      split: 'test',
      onSamples: (ex: Example, samples) => rows.push({ label: ex.id, image: ex, graders: ex.annotations, samples }),
    });
    return { evaluation, rows };
  } finally {
    model.dispose();
  }
}

function pngOf(bytes: Uint8Array): { width: number; height: number } {
  const img = decode(bytes);
  return { width: img.width, height: img.height };
}

/** Distinct colours in a PNG: a blank or one-colour picture has 1. */
function colourCount(bytes: Uint8Array): number {
  const img = decode(bytes);
  const seen = new Set<number>();
  for (let i = 0; i < img.width * img.height; i++) {
    const o = i * img.channels;
    seen.add((img.data[o]! << 16) | (img.data[o + 1]! << 8) | img.data[o + 2]!);
  }
  return seen.size;
}

describe('evaluation figures', () => {
  let lidc: { evaluation: Evaluation; rows: SampleGridRow[] };
  let cityscapes: { evaluation: Evaluation; rows: SampleGridRow[] };
  beforeAll(async () => {
    await initBackend('cpu');
    lidc = await evaluateTiny(createSyntheticLidc({ count: 5, size: 32, seed: 4 }), 1, 2);
    cityscapes = await evaluateTiny(createSyntheticCityscapes({ count: 3, height: 32, width: 64, seed: 4 }), 3, 24);
  }, 60_000);

  it('GED versus samples: one facet per panel, per-image points, titles and axis labels', async () => {
    const fig = await gedVersusSamplesFigure([
      { title: 'synthetic LIDC', evaluation: lidc.evaluation },
      { title: 'synthetic Cityscapes', evaluation: cityscapes.evaluation },
    ]);
    expect(fig.svg).toMatch(/^<svg/);
    for (const text of ['Generalized energy distance versus number of samples', 'samples per image', 'GED (d = 1 − IoU)', 'synthetic LIDC', 'synthetic Cityscapes', 'vs the graders', 'vs the true distribution', 'oracle floor (true samples)']) {
      expect(fig.svg).toContain(text);
    }
    // One point per finite per-image value of the two point measures, in each panel's facet.
    const finiteValues = (e: Evaluation) =>
      e.perImage.flatMap((r) => [...(r.values.gedGraders ?? []), ...(r.values.gedDistribution ?? [])]).filter((v) => typeof v === 'number' && Number.isFinite(v)).length;
    const facets = [...fig.svg.matchAll(/<g class="mark-symbol role-mark child_layer_0_marks"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!.split('<path').length - 1);
    expect(facets).toEqual([finiteValues(lidc.evaluation), finiteValues(cityscapes.evaluation)]);
    expect(facets[0]).toBe(5 * 2 * 2); // synthetic LIDC: every value finite
    // The mean lines join the sample counts: in the LIDC facet one path per measure, through 1 and 4 samples.
    const lines = [...fig.svg.matchAll(/aria-roledescription="line mark" d="([^"]*)"/g)].map((m) => m[1]!);
    expect(lines.filter((d) => /^M[\d.,-]+L[\d.,-]+$/.test(d)).length).toBeGreaterThanOrEqual(3);
    const { width, height } = pngOf(fig.png);
    expect(width).toBeGreaterThan(800); // two 300-px facets at zoom 2
    expect(height).toBeGreaterThan(400);
    expect(colourCount(fig.png)).toBeGreaterThan(20); // text, points and lines, not a blank page
  }, 60_000);

  it('calibration bars and the 32 Cityscapes modes appear for flips; neither for synthetic LIDC calibration', async () => {
    expect(await calibrationFigure([{ title: 'lidc', evaluation: lidc.evaluation }])).toBeUndefined();
    const cal = await calibrationFigure([{ title: 'synthetic Cityscapes', evaluation: cityscapes.evaluation }]);
    expect(cal).toBeDefined();
    for (const name of ['sidewalk 1→19', 'person 11→20', 'car 13→21', 'vegetation 8→22', 'road 0→23', 'probability of the flip', 'true probability', 'sampled flip fraction']) {
      expect(cal!.svg).toContain(name);
    }
    expect(pngOf(cal!.png).width).toBeGreaterThan(400);
    // A bar per flip for the truth and one per flip whose class occurred for the samples.
    const bars = (svg: string) => [...svg.matchAll(/<g class="mark-rect role-mark child_marks"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]!.split('<path').length - 1);
    const flips = cityscapes.evaluation.flipCalibration!.flips;
    expect(bars(cal!.svg)).toEqual([flips.length + flips.filter((f) => Number.isFinite(f.fraction)).length]);
    // Synthetic LIDC has mode shares (its known modes) instead of flips.
    const lidcModes = await modeFrequencyFigure([{ title: 'lidc', evaluation: lidc.evaluation }]);
    for (const m of lidc.evaluation.modeShares!) expect(lidcModes!.svg).toContain(`>${m.mode}<`);
    const none = { ...lidc.evaluation, modeShares: null, flipCalibration: null };
    expect(await modeFrequencyFigure([{ title: 'none', evaluation: none }])).toBeUndefined();
  }, 60_000);

  it('mode frequencies: one panel per model, the 32 combinations most probable first, r and TV in the header, under 1,600 px wide', async () => {
    const flips = cityscapes.evaluation.card.protocol.conventions.flips!;
    const truth: LabelMap = { data: flips.map((f) => f.from), height: 1, width: flips.length };
    // Model A: 3 of 4 samples unflipped, 1 sidewalk and car flipped; model B never flips. Every class present.
    const flipped = { ...truth, data: flips.map((f, i) => (i === 0 || i === 2 ? f.to : f.from)) };
    const withRecords = (samples: LabelMap[]) => ({ ...cityscapes.evaluation, flipCalibration: summarizeFlipCalibration([recordImageFlips(samples, truth, flips)], flips) });
    const fig = (await modeFrequencyFigure([
      { title: 'model A', evaluation: withRecords([truth, truth, truth, flipped]) },
      { title: 'model B', evaluation: withRecords([truth, truth]) },
    ]))!;
    const bars = [...fig.svg.matchAll(/aria-label="flip combination \([^)]*\): ([01]{5}); frequency \/ probability: ([\d.e-]+); kind: ([a-z ]+)"/g)].map((m) => ({ mode: m[1]!, value: Number(m[2]), kind: m[3]! }));
    expect(bars).toHaveLength(2 * 2 * 32);
    const truths = bars.slice(0, 64).filter((b) => b.kind === 'true probability');
    expect(new Set(truths.map((b) => b.mode)).size).toBe(32);
    expect(truths.reduce((a, b) => a + b.value, 0)).toBeCloseTo(1, 9); // the 32 flip combinations cover every outcome
    expect(bars.find((b) => b.mode === '11111' && b.kind === 'true probability')!.value).toBeCloseTo((8 * 7 * 6 * 5 * 4) / 17 ** 5, 9);
    expect(bars.find((b) => b.mode === '10100' && b.kind === 'sampled frequency')!.value).toBe(0.25);
    expect(bars.find((b) => b.mode === '00000' && b.kind === 'sampled frequency')!.value).toBe(0.75);
    // The x axis runs from the most probable combination (00000) to the least (11111).
    const ticks = [...fig.svg.matchAll(/role-axis-label[\s\S]*?<\/g>/g)].flatMap((m) => [...m[0].matchAll(/>([01]{5})</g)].map((t) => t[1]!));
    expect(ticks[0]).toBe('00000');
    expect(ticks[31]).toBe('11111');
    for (const text of ['model A: r = ', 'model B: r = 0.539, TV = 0.891 (1 image with every class)', 'sidewalk, person, car, vegetation, road (1 = flipped, 0 = not)']) expect(fig.svg).toContain(text);
    expect(pngOf(fig.png).width).toBeLessThanOrEqual(1600);
    // No image with every class: no table to draw.
    const partial = { ...truth, data: [...Array.from(truth.data).slice(0, -1), 3] };
    const none = { ...cityscapes.evaluation, flipCalibration: summarizeFlipCalibration([recordImageFlips([partial], partial, flips)], flips) };
    expect(await modeFrequencyFigure([{ title: 'none', evaluation: none }])).toBeUndefined();
  }, 60_000);

  it('calibration (five models) and GED (six) stay under 1,600 px wide: two panels a row', async () => {
    const panels = ['a', 'b', 'c', 'd', 'e', 'f'].map((title) => ({ title, evaluation: cityscapes.evaluation }));
    expect(pngOf((await calibrationFigure(panels.slice(0, 5)))!.png).width).toBeLessThanOrEqual(1600);
    const ged = pngOf((await gedVersusSamplesFigure(panels)).png);
    expect(ged.width).toBeLessThanOrEqual(1600);
    expect(ged.height).toBeGreaterThan(3 * 220 * 2); // three rows of two
  }, 60_000);

  it('sample grid: a row per image, columns for the image, graders and samples', async () => {
    const small = await sampleGridFigure(lidc.rows.slice(0, 2), { numClasses: 2 });
    const large = await sampleGridFigure(lidc.rows.slice(0, 4), { numClasses: 2 });
    const a = pngOf(small.png);
    const b = pngOf(large.png);
    expect(a.width).toBe(b.width);
    expect(b.height).toBeGreaterThan(a.height + 150); // two more 96-px rows
    // 1 image + 4 graders + 4 samples columns of 96 px each, plus labels.
    expect(a.width).toBeGreaterThan(9 * 96);
    const city = await sampleGridFigure(cityscapes.rows, { numClasses: 24, ignoreLabel: 255 });
    expect(colourCount(city.png)).toBeGreaterThan(8); // class colours
  }, 60_000);

  it('Cityscapes sample grid: label maps in the colours the images are painted in', async () => {
    // The synthetic images: each class's mean pixel colour is its Cityscapes colour (within the generator's jitter and noise).
    const ex = cityscapes.rows[0]!.image;
    const unflipped = ex.meta!.unflipped as Uint8Array;
    for (const c of CITYSCAPES_CLASSES.filter((k) => unflipped.includes(k.id))) {
      const mean = [0, 0, 0];
      let n = 0;
      unflipped.forEach((v, p) => {
        if (v !== c.id) return;
        n++;
        for (let ch = 0; ch < 3; ch++) mean[ch]! += ex.image[p * 3 + ch]!;
      });
      mean.forEach((m, ch) => expect(Math.abs(m / n - c.colour[ch]! / 255), `${c.name} channel ${ch}`).toBeLessThan(0.08));
    }
    const colours = (bytes: Uint8Array) => {
      const img = decode(bytes);
      const seen = new Set<string>();
      for (let i = 0; i < img.width * img.height; i++) seen.add(String([0, 1, 2].map((c) => img.data[i * img.channels + c])));
      return seen;
    };
    const shown = new Set(cityscapes.rows.flatMap((r) => [...r.graders, ...r.samples].flatMap((m) => [...m])));
    const drawn = colours((await sampleGridFigure(cityscapes.rows, { numClasses: 24, ignoreLabel: 255, classes: CITYSCAPES_CLASSES })).png);
    for (const c of CITYSCAPES_CLASSES.filter((k) => shown.has(k.id))) expect(drawn.has(String(c.colour)), c.name).toBe(true);
    // Without the table: generic colours (road, class 0, is black there, not the Cityscapes purple).
    const generic = colours((await sampleGridFigure(cityscapes.rows, { numClasses: 24, ignoreLabel: 255 })).png);
    expect(generic.has(String(CITYSCAPES_CLASSES[0]!.colour))).toBe(false);
  }, 60_000);

  it('writeFigure writes basename.svg and basename.png atomically and returns their paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-figures-'));
    const fig = await gedVersusSamplesFigure([{ title: 'lidc', evaluation: lidc.evaluation }], { title: 'my title' });
    const paths = await writeFigure(dir, 'ged', fig);
    expect(paths).toEqual([join(dir, 'ged.svg'), join(dir, 'ged.png')]);
    expect(await readFile(paths[0]!, 'utf8')).toContain('my title');
    expect(pngOf(await readFile(paths[1]!)).width).toBeGreaterThan(300);
    const grid = await sampleGridFigure(lidc.rows.slice(0, 1), { numClasses: 2 });
    expect(await writeFigure(dir, 'grid', grid)).toEqual([join(dir, 'grid.png')]);
  }, 60_000);
});
