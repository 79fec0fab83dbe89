import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { Trainer, createProbUNet, type SegmentationSampler } from '@probunet/core';
import { iou } from '@probunet/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeterministicUNet } from '../src/index.js';

// The paper's core claim, end to end on CPU: one image, two equally likely annotations of a lesion's
// extent (LIDC-style disagreement: the whole blob, or only its core). The Prob. U-Net's samples
// cover both; a deterministic U-Net has one answer for the image. Runs on the wasm backend (npm
// registry only), about 5× faster than the pure-JS cpu backend for this model.

const S = 16;
const STEPS = Number(process.env.PROBUNET_E2E_STEPS ?? 300);

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

async function modeShares(sampler: SegmentationSampler, n: number) {
  const { img, whole, core } = scene();
  const image = tf.tensor4d(img, [1, S, S, 1]);
  const samples = sampler.sample(image, n, { seed: 99 });
  const data = await samples.data();
  tf.dispose([image, samples]);
  const asMap = (d: ArrayLike<number>) => ({ data: d, height: S, width: S });
  let w = 0;
  let c = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) {
    const s = data.subarray(i * S * S, (i + 1) * S * S);
    distinct.add(s.join(''));
    if (iou(asMap(s), asMap(whole)) > 0.8) w++;
    else if (iou(asMap(s), asMap(core)) > 0.8) c++;
  }
  return { whole: w / n, core: c / n, distinct: distinct.size };
}

async function train(model: ConstructorParameters<typeof Trainer>[0]) {
  const { img, whole, core } = scene();
  const B = 8;
  const images = tf.tensor4d(Float32Array.from({ length: B * S * S }, (_, i) => img[i % (S * S)]!), [B, S, S, 1]);
  const both = new Int32Array(B * 2 * S * S);
  for (let b = 0; b < B; b++) {
    both.set(whole, b * 2 * S * S);
    both.set(core, (b * 2 + 1) * S * S);
  }
  const labels = tf.tensor4d(both, [B, 2, S, S], 'int32');
  const trainer = new Trainer(model, { learningRate: 3e-3, seed: 5 });
  for (let i = 0; i < STEPS; i++) await trainer.trainStep({ images, labels });
  tf.dispose([images, labels]);
  trainer.dispose();
}

describe('two equally likely annotations of one image', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('the Prob. U-Net samples both (each in 25–75 % of 100 samples)', async () => {
    const model = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [8, 16], convsPerBlock: 2, latentDim: 2, num1x1Convs: 2, seed: 1 });
    await train(model);
    const shares = await modeShares(model, 100);
    console.info(`Prob. U-Net after ${STEPS} steps: whole ${shares.whole}, core ${shares.core}, ${shares.distinct} distinct samples`);
    expect(shares.whole).toBeGreaterThanOrEqual(0.25);
    expect(shares.whole).toBeLessThanOrEqual(0.75);
    expect(shares.core).toBeGreaterThanOrEqual(0.25);
    expect(shares.core).toBeLessThanOrEqual(0.75);
    model.dispose();
  });

  it('the deterministic U-Net gives one answer, covering at most one mode', async () => {
    const model = new DeterministicUNet({ encoder: { type: 'unet', inputChannels: 1, channels: [8, 16], convsPerBlock: 2, seed: 1 }, numClasses: 2 });
    await train(model);
    const shares = await modeShares(model, 100);
    expect(shares.distinct).toBe(1);
    expect(shares.whole === 0 || shares.core === 0).toBe(true);
    model.dispose();
  });
});
