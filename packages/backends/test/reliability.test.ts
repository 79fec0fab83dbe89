// Hostile inputs against the backends' side of training (issue 18): non-square images on every
// backend the tests can load, and the data-parallel trainer's handling of a ruinous update.
import * as tf from '@tensorflow/tfjs-core';
import { createProbUNet, DisposedError, NonFiniteLossError, Trainer, type ProbUNet } from '@probunet/core';
import { relativeL2Error, tolerance } from '@probunet/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend, type BackendName } from '../src/index.js';
import { createWorkerGradients } from '../src/node/index.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [2, 4, 4], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

function batch(h: number, w: number, seed = 1) {
  const images = tf.randomUniform([2, h, w, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
  const labels = tf.cast(tf.greater(tf.randomUniform([2, h, w], 0, 1, 'float32', seed + 1), 0.5), 'int32') as tf.Tensor3D;
  return { images, labels };
}

async function flat(model: ProbUNet): Promise<number[]> {
  const out: number[] = [];
  for (const p of model.parameters()) out.push(...(await p.variable.data()));
  return out;
}

/** d/dx Σ resize(x)·dy for a non-square resize, on the active backend. */
async function resizeGrad(): Promise<Float32Array> {
  const g = tf.tidy(() => {
    const x = tf.randomNormal([2, 9, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 17, 8, 3], 0, 1, 'float32', 2);
    return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(xx as tf.Tensor4D, [17, 8], true), dy)))(x);
  });
  expect(g.shape).toEqual([2, 9, 4, 3]);
  const data = (await g.data()) as Float32Array;
  g.dispose();
  return data;
}

describe('non-square images train on every backend (tfjs-backend-cpu 4.22 swaps H and W in resizeBilinearGrad)', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const backends: BackendName[] = ['cpu', 'wasm', 'wasm-native', 'native'];
  it.each(backends)('%s: the resize gradient agrees with cpu, and 32×64 and 36×32 batches train', async (backend) => {
    await initBackend('cpu');
    const reference = await resizeGrad();
    await initBackend(backend);
    expect(relativeL2Error(await resizeGrad(), reference)).toBeLessThan(tolerance('kernel'));
    for (const [h, w] of [
      [32, 64],
      [36, 32],
    ] as const) {
      const model = createProbUNet(tiny);
      const trainer = new Trainer(model, { learningRate: 1e-3 });
      const b = batch(h, w);
      const first = await trainer.trainStep(b);
      const before = tf.memory().numTensors;
      const second = await trainer.trainStep(b);
      expect(tf.memory().numTensors).toBe(before);
      expect(Number.isFinite(first.loss) && Number.isFinite(second.loss)).toBe(true);
      expect(second.updateNorm).toBeGreaterThan(0);
      tf.dispose([b.images, b.labels]);
      trainer.dispose();
      model.dispose();
    }
  });
});

describe('worker gradients: a fault never replaces good state', () => {
  it('rejects a learning rate of 1e39 without touching weights, moments, step or RNG; errors after close', async () => {
    const model = createProbUNet(tiny);
    const goodWorkers = await createWorkerGradients(model, { workers: 1, backend: 'cpu' });
    const good = new Trainer(model, { learningRate: 1e-3, seed: 2, gradientSource: goodWorkers });
    const b = batch(8, 16, 5);
    try {
      await good.trainStep(b); // non-square through a cpu worker too
      const state = good.getState();
      const w = await flat(model);
      const badWorkers = await createWorkerGradients(model, { workers: 1, backend: 'cpu' });
      const bad = new Trainer(model, { learningRate: 1e39, seed: 2, gradientSource: badWorkers });
      try {
        bad.restoreState(state, good.optimizer.stateTensors());
        const pick = ({ step, rngState, adam }: typeof state) => ({ step, rngState, adam });
        await expect(bad.trainStep(b)).rejects.toThrow(NonFiniteLossError);
        expect(pick(bad.getState())).toEqual(pick(state));
        expect(await flat(model)).toEqual(w);
      } finally {
        await badWorkers.close();
        bad.dispose();
      }
      expect((await good.trainStep(b)).step).toBe(2);
    } finally {
      await goodWorkers.close();
    }
    await expect(good.trainStep(b)).rejects.toThrow(DisposedError);
    good.dispose();
    await expect(good.trainStep(b)).rejects.toThrow(DisposedError);
    tf.dispose([b.images, b.labels]);
    model.dispose();
  });
});
