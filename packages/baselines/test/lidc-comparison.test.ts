import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { Trainer, type CheckpointableModel } from '@probunet/core';
import { createSyntheticLidc, toTensors, type Example } from '@probunet/datasets';
import { MetricAccumulator, generalizedEnergyDistance, type LabelMap } from '@probunet/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_TYPES, createModel, type ModelType } from '../src/index.js';

// The paper's comparison in miniature, on the synthetic LIDC-like data (a faint blob whose extent
// the graders disagree on, with a known distribution over four extents, one of them empty): all six
// models train the same number of steps on the same batches, sample 16 segmentations per test image,
// and are scored by GED against the true distribution. Tiny on purpose (32×32, three levels of 8–32 channels), so it
// runs in CI; only the Prob. U-Net vs deterministic U-Net ordering is asserted.

const STEPS = Number(process.env.PROBUNET_COMPARISON_STEPS ?? 300);
const SAMPLES = 16;
const BATCH = Number(process.env.PROBUNET_COMPARISON_BATCH ?? 4);
const unet = { inputChannels: 1, numClasses: 2, channels: [8, 16, 32], convsPerBlock: 1, seed: 3 };
const train = createSyntheticLidc({ count: 64, size: 32, seed: 1 });
const test = createSyntheticLidc({ count: 8, size: 32, seed: 2 });
const ged: Partial<Record<ModelType, number>> = {};

async function trainModel(model: CheckpointableModel): Promise<void> {
  const trainer = new Trainer(model, { learningRate: 1e-3, seed: 7 });
  const examples = await Promise.all(Array.from({ length: train.length }, (_, i) => train.get(i)));
  for (let step = 0; step < STEPS; step++) {
    const start = (step * BATCH) % examples.length;
    const { images, labels } = toTensors(examples.slice(start, start + BATCH));
    await trainer.trainStep({ images, labels });
    tf.dispose([images, labels]);
  }
  trainer.dispose();
}

async function meanGed(model: CheckpointableModel): Promise<number> {
  const acc = new MetricAccumulator();
  const { evalClasses: classes, emptyPair } = test.spec;
  for (let i = 0; i < test.length; i++) {
    const ex: Example = await test.get(i);
    const { images, labels } = toTensors([ex]);
    const out = model.sample(images, SAMPLES, { seed: 100 + i });
    const data = await out.data();
    tf.dispose([images, labels, out]);
    const hw = ex.height * ex.width;
    const map = (d: ArrayLike<number>): LabelMap => ({ data: d, height: ex.height, width: ex.width });
    const samples = Array.from({ length: SAMPLES }, (_, k) => map(data.subarray(k * hw, (k + 1) * hw)));
    const truths = ex.distribution!.map((m) => map(m.labels));
    const truthWeights = ex.distribution!.map((m) => m.probability);
    acc.add(generalizedEnergyDistance(samples, truths, { classes, emptyPair, truthWeights }).ged, ex.id);
  }
  return acc.summary().mean;
}

describe(`six models on synthetic LIDC-like data (32×32, ${STEPS} steps of ${BATCH}, GED of ${SAMPLES} samples vs the true distribution)`, () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(() => {
    console.info(`GED by model: ${JSON.stringify(ged)}`);
  });

  it.each(MODEL_TYPES)('%s trains and samples', async (type) => {
    const before = tf.memory().numTensors;
    const model = createModel({ type, ...unet } as never);
    const t0 = performance.now();
    await trainModel(model);
    const t1 = performance.now();
    ged[type] = await meanGed(model);
    console.info(`${type}: train ${((t1 - t0) / 1000).toFixed(1)} s, evaluate ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    expect(Number.isFinite(ged[type])).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the Prob. U-Net’s GED is below the deterministic U-Net’s', () => {
    expect(ged['prob-unet']).toBeLessThan(ged['deterministic-unet']!);
  });
});
