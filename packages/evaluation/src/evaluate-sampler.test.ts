import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '@probunet/baselines';
import { createProbUNet, type SegmentationSampler } from '@probunet/core';
import { createSyntheticCityscapes, createSyntheticLidc } from '@probunet/datasets';
import { generalizedEnergyDistance } from '@probunet/metrics';
import pkg from '../package.json' with { type: 'json' };
import {
  EVALUATION_VERSION,
  EvaluationError,
  evaluateSampler,
  evaluationFromJSON,
  evaluationToJSON,
  mergeEvaluations,
  protocolDifferences,
  type Evaluation,
} from './index.js';

const tiny = { numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 0 };
const lidcModel = createProbUNet({ inputChannels: 1, ...tiny });
const lidc = createSyntheticLidc({ count: 10, size: 32, seed: 1 });
afterAll(() => lidcModel.dispose());

/** The parts of a result that must not depend on sharding (timing and date do). */
const comparable = (e: Evaluation) => ({
  ...e,
  timing: undefined,
  card: { ...e.card, run: { ...e.card.run, date: undefined } },
});

/** Counts sampler calls, to show a mismatch is refused before any work. */
function counting(sampler: SegmentationSampler): SegmentationSampler & { calls: number } {
  const wrapped = Object.create(sampler) as SegmentationSampler & { calls: number };
  wrapped.calls = 0;
  wrapped.sample = (...args) => {
    wrapped.calls++;
    return sampler.sample(...args);
  };
  return wrapped;
}

describe('evaluateSampler', () => {
  it('4 shards merged equal the unsharded run exactly (also through JSON files)', async () => {
    const options = { sampleCounts: [8, 1, 4], seed: 5, batchSize: 2, split: 'test' };
    const whole = await evaluateSampler(lidcModel, lidc, options);
    const parts = await Promise.all([0, 1, 2, 3].map((index) => evaluateSampler(lidcModel, lidc, { ...options, shard: { index, count: 4 } })));
    expect(parts.map((p) => p.perImage.length)).toEqual([2, 2, 2, 4]); // 5 batches of 2 over 4 shards
    const merged = mergeEvaluations([parts[2]!, parts[0]!, parts[3]!, parts[1]!]);
    expect(comparable(merged)).toEqual(comparable(whole));
    const viaFiles = mergeEvaluations(parts.map((p) => evaluationFromJSON(evaluationToJSON(p))));
    expect(comparable(viaFiles)).toEqual(comparable(whole));
    expect(whole.card.protocol.sampleCounts).toEqual([1, 4, 8]);
    expect(whole.perImage.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('more shards than batches: the empty shards merge too', async () => {
    const small = createSyntheticLidc({ count: 3, size: 32, seed: 2 });
    const options = { sampleCounts: [2], batchSize: 2 };
    const parts = await Promise.all([0, 1, 2, 3].map((index) => evaluateSampler(lidcModel, small, { ...options, shard: { index, count: 4 } })));
    expect(parts.map((p) => p.perImage.map((r) => r.index))).toEqual([[], [0, 1], [], [2]]);
    expect(comparable(mergeEvaluations(parts))).toEqual(comparable(await evaluateSampler(lidcModel, small, options)));
  });

  it('scores what it sampled: the largest count re-measured from the samples matches; smaller counts are prefixes', async () => {
    const kept: Uint8Array[][] = [];
    const e = await evaluateSampler(lidcModel, lidc, { sampleCounts: [2, 4], seed: 3, onSamples: (_ex, s) => kept.push(s) });
    const ex = await lidc.get(0);
    const map = (d: Uint8Array) => ({ data: d, height: 32, width: 32 });
    const graders = ex.annotations.map(map);
    const r = e.perImage[0]!;
    expect(r.values.gedGraders![1]).toBeCloseTo(generalizedEnergyDistance(kept[0]!.map(map), graders).ged, 12);
    expect(r.values.gedGraders![0]).toBeCloseTo(generalizedEnergyDistance(kept[0]!.slice(0, 2).map(map), graders).ged, 12);
    // The distribution measures exist for synthetic data; the oracle floor is finite.
    expect(r.values.gedDistribution).toHaveLength(2);
    expect(Number.isFinite(r.values.oracleGedDistribution![1]!)).toBe(true);
    // The true diversity, by hand: Σ p_i p_j (1 − IoU of the foreground), both-empty pairs at 0.
    const modes = ex.distribution!;
    let want = 0;
    for (const a of modes) {
      for (const b of modes) {
        let inter = 0;
        let union = 0;
        for (let p = 0; p < a.labels.length; p++) {
          const fa = a.labels[p] === 1, fb = b.labels[p] === 1;
          if (fa && fb) inter++;
          if (fa || fb) union++;
        }
        want += a.probability * b.probability * (union === 0 ? 0 : 1 - inter / union);
      }
    }
    expect(want).toBeGreaterThan(0);
    expect(r.values.trueDiversity).toHaveLength(2);
    for (const v of r.values.trueDiversity!) expect(v).toBeCloseTo(want, 10);
    expect(e.modeShares!.reduce((a, m) => a + m.samples, 0)).toBe(10 * 4);
    expect(e.flipCalibration).toBeNull();
    const ged = e.bySampleCount[1]!.metrics.gedGraders!;
    expect(ged.count + ged.nanCount).toBe(10);
    expect(ged.standardError).toBeGreaterThan(0);
  });

  it('streams: progress per batch, no tensors left behind', async () => {
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    await evaluateSampler(lidcModel, lidc, { sampleCounts: [2], batchSize: 3, onProgress: (p) => seen.push(p.done) });
    expect(seen).toEqual([3, 6, 9, 10]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a deterministic U-Net: diversity 0, NCC NaN on every image (constant E_ss) and counted, not a crash', async () => {
    const unet = createModel({ type: 'deterministic-unet', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, seed: 2 });
    try {
      const e = await evaluateSampler(unet, lidc, { sampleCounts: [1, 4] });
      const m = e.bySampleCount[1]!.metrics;
      expect(m.sampleDiversity!.mean).toBe(0);
      expect(m.ncc!.count).toBe(0);
      expect(m.ncc!.nanCount).toBe(10);
      expect(m.ncc!.mean).toBeNaN();
      expect(Number.isFinite(m.gedGraders!.mean)).toBe(true);
      expect(e.card.model.type).toBe('deterministic-unet');
    } finally {
      unet.dispose();
    }
  });

  it('Cityscapes-like data: emptyPair nan, 10 classes, flip calibration over the five flips', async () => {
    const city = createSyntheticCityscapes({ count: 4, height: 32, width: 64, seed: 2 });
    const model = createProbUNet({ ...tiny, inputChannels: 3, numClasses: 24 });
    try {
      const whole = await evaluateSampler(model, city, { sampleCounts: [2, 4], ece: { classId: 1 } });
      const parts = [0, 1].map((index) => evaluateSampler(model, city, { sampleCounts: [2, 4], ece: { classId: 1 }, shard: { index, count: 2 } }));
      expect(comparable(mergeEvaluations(await Promise.all(parts)))).toEqual(comparable(whole));
      expect(whole.card.protocol.conventions).toMatchObject({ emptyPair: 'nan', nanPairs: 'propagate', ignoreLabel: 255, classes: [0, 1, 8, 11, 13, 19, 20, 21, 22, 23] });
      const flips = whole.flipCalibration!.flips;
      expect(flips.map((f) => f.from)).toEqual([1, 11, 13, 8, 0]);
      expect(flips[0]!.truthPixels).toBeGreaterThan(0);
      // Every image's record holds one combination per sample (4 samples, the largest count).
      for (const r of whole.perImage) expect(r.flipRecord!.modes.reduce((a, m) => a + m.count, 0)).toBe(4);
      const cal = whole.flipCalibration!;
      expect(cal.totalVariation.images + cal.totalVariation.imagesWithoutFlips).toBe(4);
      expect(cal.fullModes.modes).toHaveLength(32);
      // Files written before the flip record (per-image flips + flipModes) read back to the same calibration.
      const legacy = JSON.parse(evaluationToJSON(whole)) as { perImage: Array<Record<string, unknown>> };
      for (const r of legacy.perImage) {
        const rec = r.flipRecord as { classPixels: number[]; flippedPixels: number[]; modes: Array<{ key: string; count: number }> };
        r.flips = rec.classPixels.map((c, i) => ({ truthPixels: c * 4, flippedPixels: rec.flippedPixels[i] }));
        r.flipModes = rec.modes.map((m) => ({ ...m, trueProbability: 0 }));
        delete r.flipRecord;
      }
      expect(evaluationFromJSON(JSON.stringify(legacy)).flipCalibration).toEqual(cal);
      expect(whole.perImage[0]!.values.matchedIoUDistribution).toHaveLength(2);
    } finally {
      model.dispose();
    }
  });

  it.each([
    ['channels', () => createProbUNet({ ...tiny, inputChannels: 3 }), 32, /takes 3 input channels but .* have 1: build the model with inputChannels 1/],
    ['classes', () => createProbUNet({ ...tiny, inputChannels: 1, numClasses: 3 }), 32, /predicts 3 classes but .* has 2: build the model with numClasses 2/],
    ['size', () => createProbUNet({ ...tiny, inputChannels: 1, channels: [2, 2, 2, 2, 2, 2] }), 48, /48×48, not divisible by the model's down-sampling factor 32: crop or resize them to e.g. 32×32/],
  ])('refuses a model/dataset mismatch (%s) before any sampling', async (_name, build, size, message) => {
    const model = build();
    const sampler = counting(model);
    try {
      const data = createSyntheticLidc({ count: 2, size, seed: 1 });
      await expect(evaluateSampler(sampler, data, { sampleCounts: [2] })).rejects.toThrow(EvaluationError);
      await expect(evaluateSampler(sampler, data, { sampleCounts: [2] })).rejects.toThrow(message);
      expect(sampler.calls).toBe(0);
    } finally {
      model.dispose();
    }
  });

  it('refuses bad options by name', async () => {
    await expect(evaluateSampler(lidcModel, lidc, { sampleCounts: [0, 4] })).rejects.toThrow(/sampleCounts must hold positive integers, got 0/);
    await expect(evaluateSampler(lidcModel, lidc, { shard: { index: 4, count: 4 } })).rejects.toThrow(/shard.index must be an integer in 0..3/);
    await expect(evaluateSampler(lidcModel, lidc, { classes: [5] })).rejects.toThrow(/evaluation class 5/);
  });
});

describe('mergeEvaluations refuses parts that are not one run', () => {
  const options = { sampleCounts: [2], seed: 1 };
  const run = (index: number, count: number, extra = {}) => evaluateSampler(lidcModel, lidc, { ...options, ...extra, shard: { index, count } });

  it.each([
    ['a missing shard', async () => [await run(0, 3), await run(2, 3)], /shard 1 of 3 missing/],
    ['a duplicated shard', async () => [await run(0, 2), await run(0, 2), await run(1, 2)], /shard 0 of 2 is given twice \(parts 0 and 1\)/],
    ['different shard counts', async () => [await run(0, 2), await run(1, 3)], /part 1 is shard 1 of 3 but part 0 is one of 2/],
    ['a different protocol', async () => [await run(0, 2), await run(1, 2, { sampleCounts: [4] })], /protocol.sampleCounts: \[2\] vs \[4\]/],
    ['a different seed', async () => [await run(0, 2), await run(1, 2, { seed: 9 })], /run.seed: 1 vs 9/],
  ])('%s', async (_name, make, message) => {
    const parts = await make();
    expect(() => mergeEvaluations(parts)).toThrow(EvaluationError);
    expect(() => mergeEvaluations(parts)).toThrow(message);
  });
});

describe('protocol card', () => {
  it('round-trips through JSON and says where two protocols differ', async () => {
    const a = await evaluateSampler(lidcModel, lidc, { sampleCounts: [2], split: 'test' });
    expect(JSON.parse(JSON.stringify(a.card))).toEqual(a.card);
    expect(protocolDifferences(a.card, JSON.parse(JSON.stringify(a.card)))).toEqual([]);
    const b = await evaluateSampler(lidcModel, lidc, { sampleCounts: [2], split: 'val', emptyPair: 'nan' });
    expect(protocolDifferences(a.card, b.card)).toEqual(['protocol.conventions.emptyPair: "one" vs "nan"', 'protocol.dataset.split: "test" vs "val"']);
    expect(a.card.model.parameterCounts!.total).toBeGreaterThan(0);
    expect(a.card.run).toMatchObject({ backend: 'cpu', package: '@probunet/evaluation', version: pkg.version });
    expect(a.card.protocol.examples.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('records the package version of package.json', () => {
    expect(EVALUATION_VERSION).toBe(pkg.version);
  });
});
