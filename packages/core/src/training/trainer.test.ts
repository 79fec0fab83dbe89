import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint, restoreCheckpoint } from '../checkpoint/format.js';
import { NonFiniteLossError } from '../errors.js';
import { createProbUNet } from '../model/create.js';
import { expectNoLeakedTensors } from '../testing/index.js';
import { learningRateAt } from './schedule.js';
import { Trainer } from './trainer.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

function batch(seed: number, graders = 0) {
  const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
  const shape = graders > 0 ? [2, graders, 8, 8] : [2, 8, 8];
  const labels = tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed + 100), 0.5), 'int32') as tf.Tensor3D;
  return { images, labels };
}

async function weights(model: { parameters(): { variable: tf.Variable }[] }): Promise<number[]> {
  const out: number[] = [];
  for (const p of model.parameters()) out.push(...(await p.variable.data()));
  return out;
}

describe('Trainer', () => {
  it('reduces the loss on a fixed batch', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-2, seed: 1 });
    const b = batch(1);
    const first = await trainer.trainStep(b);
    let last = first;
    for (let i = 0; i < 30; i++) last = await trainer.trainStep(b);
    expect(last.step).toBe(31);
    expect(last.loss).toBeLessThan(first.loss * 0.8);
    expect(first.terms.reconstruction!).toBeGreaterThan(0);
    expect(first.terms.kl!).toBeGreaterThanOrEqual(0);
    tf.dispose([b.images, b.labels]);
    trainer.dispose();
    model.dispose();
  });

  it('computes the reconstruction term as the per-image CE summed over valid pixels, mean over the batch', async () => {
    // With all-zero logits every pixel costs ln K, so the term is (valid pixels per image)·ln 2.
    const model = createProbUNet(tiny);
    for (const p of model.fusion.parameters()) p.variable.assign(tf.zerosLike(p.variable));
    const trainer = new Trainer(model, { learningRate: 0 });
    const images = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const lbl = tf.buffer([2, 8, 8], 'int32');
    for (let i = 0; i < 10; i++) lbl.set(255, 0, 0, i % 8); // 8 distinct ignore pixels in image 0
    const m = await trainer.trainStep({ images, labels: lbl.toTensor() as tf.Tensor3D });
    expect(m.terms.reconstruction!).toBeCloseTo(((64 - 8 + 64) / 2) * Math.LN2, 3);
    model.dispose();
    trainer.dispose();
  });

  it('follows a piecewise learning-rate schedule', () => {
    const s = { boundaries: [10, 20], values: [1, 0.5, 0.1] };
    expect([0, 9, 10, 19, 20, 1000].map((t) => learningRateAt(s, t))).toEqual([1, 1, 0.5, 0.5, 0.1, 0.1]);
    const model = createProbUNet(tiny);
    expect(() => new Trainer(model, { learningRate: { boundaries: [5], values: [1] } })).toThrow(/one more value than boundaries/);
    model.dispose();
  });

  it('is reproducible: same seeds, same weights', async () => {
    const run = async () => {
      const model = createProbUNet(tiny);
      const trainer = new Trainer(model, { learningRate: 1e-3, seed: 5 });
      const b = batch(2, 3);
      for (let i = 0; i < 3; i++) await trainer.trainStep(b);
      const w = await weights(model);
      tf.dispose([b.images, b.labels]);
      trainer.dispose();
      model.dispose();
      return w;
    };
    expect(await run()).toEqual(await run());
  });

  it('resuming from a checkpoint continues the same run exactly', async () => {
    const b = batch(4, 4);
    const straight = createProbUNet(tiny);
    const t1 = new Trainer(straight, { learningRate: 1e-3, seed: 8 });
    for (let i = 0; i < 4; i++) await t1.trainStep(b);

    const resumed = createProbUNet(tiny);
    const t2 = new Trainer(resumed, { learningRate: 1e-3, seed: 8 });
    for (let i = 0; i < 2; i++) await t2.trainStep(b);
    const bytes = await encodeCheckpoint(resumed, t2);
    t2.dispose();
    resumed.dispose();
    const restored = restoreCheckpoint(bytes);
    expect(restored.trainerState?.state.step).toBe(2);
    const t3 = Trainer.fromState(restored.model, restored.trainerState!);
    expect(t3.step).toBe(2);
    for (let i = 0; i < 2; i++) await t3.trainStep(b);
    expect(await weights(restored.model)).toEqual(await weights(straight));
    for (const x of [straight, restored.model]) x.dispose();
    t1.dispose();
    t3.dispose();
    tf.dispose([b.images, b.labels]);
  });

  it('fromState with a new learning rate equals the same run with that schedule from the saved step on; a gradient source with another weightDecay is refused', async () => {
    const b = batch(5);
    const schedule = { boundaries: [2], values: [1e-3, 1e-4] };
    const straight = createProbUNet(tiny);
    const t1 = new Trainer(straight, { learningRate: schedule, seed: 8 });
    for (let i = 0; i < 4; i++) await t1.trainStep(b);
    const resumed = createProbUNet(tiny);
    const t2 = new Trainer(resumed, { learningRate: 1e-3, seed: 8 });
    for (let i = 0; i < 2; i++) await t2.trainStep(b);
    const restored = restoreCheckpoint(await encodeCheckpoint(resumed, t2));
    const t3 = Trainer.fromState(restored.model, restored.trainerState!, { learningRate: schedule });
    for (let i = 0; i < 2; i++) await t3.trainStep(b);
    expect(await weights(restored.model)).toEqual(await weights(straight));
    expect(() => new Trainer(straight, { weightDecay: 1e-5, gradientSource: { weightDecay: 0, computeGradients: () => Promise.reject(new Error('unused')) } })).toThrow(
      /gradient source computes with weightDecay 0, the Trainer uses 0.00001/,
    );
    for (const t of [t1, t2, t3]) t.dispose();
    for (const m of [straight, resumed, restored.model]) m.dispose();
    tf.dispose([b.images, b.labels]);
  });

  it('picks one grader per image per step from [B,A,H,W] labels, each about equally often, and trains on the one it picked', async () => {
    const model = createProbUNet(tiny);
    // Grader a of image i marks only pixel (i, a): the labels lossTerms receives name their grader.
    const [B, A] = [2, 4];
    const marks = new Int32Array(B * A * 8 * 8);
    for (let i = 0; i < B; i++) for (let a = 0; a < A; a++) marks[((i * A + a) * 8 + i) * 8 + a] = 1;
    const labels = tf.tensor4d(marks, [B, A, 8, 8], 'int32');
    const images = tf.randomUniform([B, 8, 8, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const picked: number[][] = [];
    const losses: number[] = [];
    const spy = {
      inputSpec: model.inputSpec,
      parameters: () => model.parameters(),
      lossTerms(x: tf.Tensor4D, y: tf.Tensor3D, seed: number) {
        const maps = y.arraySync();
        // Which grader's map came in for each image: the one marked pixel, in that image's row.
        picked.push(maps.map((m, i) => m[i]!.indexOf(1)));
        maps.forEach((m, i) => expect(m.flat().reduce((a, v) => a + v, 0), `image ${i} got a map that is no single grader's`).toBe(1));
        const terms = model.lossTerms(x, y, seed);
        losses.push(terms.objective.dataSync()[0]!);
        return terms;
      },
    };
    const trainer = new Trainer(spy, { learningRate: 1e-9, seed: 5 });
    const steps = 100;
    const reported: number[] = [];
    for (let s = 0; s < steps; s++) reported.push((await trainer.trainStep({ images, labels })).loss);
    // The loss the trainer reports is the one computed on the picked maps (plus weight decay).
    reported.forEach((l, s) => expect(l).toBeGreaterThanOrEqual(losses[s]!));
    reported.forEach((l, s) => expect(l - losses[s]!).toBeLessThan(1e-3));
    // 200 picks of 4 graders: each about 50 (binomial sd 6.1; 32–68 is ±3 sd), per image too.
    const counts = [0, 0, 0, 0];
    for (const step of picked) for (const a of step) counts[a]!++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(32);
      expect(c).toBeLessThan(68);
    }
    for (let i = 0; i < B; i++) expect(new Set(picked.map((p) => p[i])).size).toBe(A);
    // Not the same grader for both images every step: the picks are per image.
    expect(picked.some((p) => p[0] !== p[1])).toBe(true);
    tf.dispose([images, labels]);
    trainer.dispose();
    model.dispose();
  });

  it('leaks no tensor across repeated train steps (after Adam has created its moments)', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const b = batch(7, 2);
    await expectNoLeakedTensors(() => trainer.trainStep(b), { what: 'trainStep' });
    tf.dispose([b.images, b.labels]);
    trainer.dispose();
    model.dispose();
  });

  it('stops on a non-finite loss without touching the weights', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const b = batch(8);
    await trainer.trainStep(b);
    const before = await weights(model);
    // Poison one kernel: the forward pass becomes NaN.
    const k = model.fusion.parameters()[0]!.variable;
    const saved = k.clone();
    k.assign(tf.fill(k.shape, NaN));
    const poisoned = await weights(model);
    await expect(trainer.trainStep(b)).rejects.toThrow(NonFiniteLossError);
    await expect(trainer.trainStep(b)).rejects.toThrow(/no update was applied/);
    expect(trainer.step).toBe(1);
    expect(await weights(model)).toEqual(poisoned);
    k.assign(saved);
    expect(await weights(model)).toEqual(before);
    tf.dispose([b.images, b.labels, saved]);
    trainer.dispose();
    model.dispose();
  });
});
