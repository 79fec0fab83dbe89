import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { Trainer, createProbUNet, type CheckpointableModel, type SegmentationSampler } from '@probunet/core';
import { iou } from '@probunet/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/index.js';

// The paper's core claim, end to end on CPU: one image, two annotations of a lesion's extent
// (LIDC-style disagreement: the whole blob, or only its core). The Prob. U-Net's samples cover both;
// each baseline shows its own characteristic behaviour on the same problem. Runs on the wasm backend
// (npm registry only), about 5× faster than the pure-JS cpu backend for these models.

const S = 16;
const STEPS = Number(process.env.PROBUNET_E2E_STEPS ?? 300);
const unet = { inputChannels: 1, numClasses: 2, channels: [8, 16], convsPerBlock: 2, seed: 1 };

function scene() {
  const img = new Float32Array(S * S);
  const whole = new Int32Array(S * S);
  const core = new Int32Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const inBlob = y >= 4 && y < 12 && x >= 2 && x < 14;
      img[y * S + x] = inBlob ? 1 : 0;
      if (inBlob) whole[y * S + x] = 1;
      if (y >= 6 && y < 10 && x >= 5 && x < 11) core[y * S + x] = 1; // IoU(core, whole) = 0.25
    }
  }
  return { img, whole, core };
}

/** Per sample: 'whole', 'core' or 'other' (IoU > 0.8 with the mode), and how many distinct samples. */
async function classify(sampler: SegmentationSampler, n: number, seed = 99) {
  const { img, whole, core } = scene();
  const image = tf.tensor4d(img, [1, S, S, 1]);
  const samples = sampler.sample(image, n, { seed });
  const data = await samples.data();
  tf.dispose([image, samples]);
  const asMap = (d: ArrayLike<number>) => ({ data: d, height: S, width: S });
  const maps = Array.from({ length: n }, (_, i) => data.subarray(i * S * S, (i + 1) * S * S));
  const modes = maps.map((s) => (iou(asMap(s), asMap(whole)) > 0.8 ? 'whole' : iou(asMap(s), asMap(core)) > 0.8 ? 'core' : 'other'));
  return { modes, keys: maps.map((s) => s.join('')), distinct: new Set(maps.map((s) => s.join(''))).size };
}

const share = (modes: string[], mode: string) => modes.filter((m) => m === mode).length / modes.length;

/** Trains on 8 copies of the image; `graders` lists each image's annotations (one picked per step). */
async function train(model: CheckpointableModel, graders: Array<'whole' | 'core'> = ['whole', 'core']) {
  const s = scene();
  const B = 8;
  const A = graders.length;
  const images = tf.tensor4d(Float32Array.from({ length: B * S * S }, (_, i) => s.img[i % (S * S)]!), [B, S, S, 1]);
  const all = new Int32Array(B * A * S * S);
  for (let b = 0; b < B; b++) graders.forEach((g, a) => all.set(s[g], (b * A + a) * S * S));
  const labels = tf.tensor4d(all, [B, A, S, S], 'int32');
  const trainer = new Trainer(model, { learningRate: 3e-3, seed: 5 });
  for (let i = 0; i < STEPS; i++) await trainer.trainStep({ images, labels });
  tf.dispose([images, labels]);
  trainer.dispose();
}

describe('two annotations of one image: what each model learns', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('the Prob. U-Net samples both equally likely modes (each in 25–75 % of 100 samples)', async () => {
    const model = createProbUNet({ ...unet, latentDim: 2, num1x1Convs: 2 });
    await train(model);
    const { modes, distinct } = await classify(model, 100);
    console.info(`Prob. U-Net after ${STEPS} steps: whole ${share(modes, 'whole')}, core ${share(modes, 'core')}, ${distinct} distinct samples`);
    expect(share(modes, 'whole')).toBeGreaterThanOrEqual(0.25);
    expect(share(modes, 'whole')).toBeLessThanOrEqual(0.75);
    expect(share(modes, 'core')).toBeGreaterThanOrEqual(0.25);
    expect(share(modes, 'core')).toBeLessThanOrEqual(0.75);
    model.dispose();
  });

  it('the deterministic U-Net gives one answer: the majority mode (whole, 3 of 4 graders)', async () => {
    const model = createModel({ type: 'deterministic-unet', ...unet });
    await train(model, ['whole', 'core', 'whole', 'whole']);
    const { modes, distinct } = await classify(model, 20);
    expect(distinct).toBe(1);
    expect(modes[0]).toBe('whole');
    model.dispose();
  });

  it('the dropout U-Net’s samples differ from each other, and are the same for the same seed', async () => {
    const model = createModel({ type: 'dropout-unet', ...unet });
    await train(model);
    const a = await classify(model, 16, 7);
    const b = await classify(model, 16, 7);
    const c = await classify(model, 16, 8);
    console.info(`dropout U-Net: ${a.distinct} distinct of 16 samples; modes ${JSON.stringify(a.modes)}`);
    expect(a.distinct).toBeGreaterThan(1);
    expect(b.keys).toEqual(a.keys);
    expect(c.keys).not.toEqual(a.keys);
    model.dispose();
  });

  it('the U-Net ensemble’s members give different answers', async () => {
    const model = createModel({ type: 'unet-ensemble', ...unet, members: 4 });
    await train(model);
    const { keys, modes } = await classify(model, 8);
    console.info(`U-Net ensemble: ${new Set(keys.slice(0, 4)).size} distinct member answers; modes ${JSON.stringify(modes.slice(0, 4))}`);
    expect(keys.slice(4)).toEqual(keys.slice(0, 4)); // sample i is member i mod 4
    expect(new Set(keys.slice(0, 4)).size).toBeGreaterThan(1);
    model.dispose();
  });

  // Strict winner-takes-all can leave heads that never win untrained: with seed 1 only one head
  // learned a mode (seeds 2–4 specialised); the relaxed loss (ε = 0.05) specialised with seeds 1–4.
  it.each([
    [0, 2],
    [0.05, 1],
  ])('the M-heads specialise (relaxation %s, seed %s): each mode is some head’s answer', async (relaxation, seed) => {
    const model = createModel({ type: 'm-heads', ...unet, seed, heads: 4, relaxation });
    await train(model);
    const { modes } = await classify(model, 4);
    console.info(`M-heads (relaxation ${relaxation}): heads answer ${JSON.stringify(modes)}`);
    expect(modes).toContain('whole');
    expect(modes).toContain('core');
    model.dispose();
  });

  it('the Image2Image VAE’s samples vary with z', async () => {
    const model = createModel({ type: 'image2image-vae', ...unet });
    await train(model);
    const { modes, distinct } = await classify(model, 32);
    console.info(`Image2Image VAE: ${distinct} distinct of 32 samples; whole ${share(modes, 'whole')}, core ${share(modes, 'core')}`);
    expect(distinct).toBeGreaterThan(1);
    model.dispose();
  });
});
