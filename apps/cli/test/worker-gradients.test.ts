// Worker gradients for a baseline: lives in the CLI's tests because only an app may depend on both
// @probunet/backends and @probunet/baselines (module boundaries).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@probunet/backends';
import { createWorkerGradients } from '@probunet/backends/node';
import { createModel } from '@probunet/baselines';
import { Trainer } from '@probunet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('createWorkerGradients with a baseline', () => {
  let images: tf.Tensor4D;
  let labels: tf.Tensor4D;
  beforeAll(async () => {
    await initBackend('cpu');
    images = tf.randomUniform([5, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    labels = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([5, 3, 8, 8], 0, 1, 'float32', 2), 0.5), 'int32')) as tf.Tensor4D;
  });
  afterAll(() => tf.dispose([images, labels]));

  it('names the plugin to pass for a model the workers cannot rebuild, and trains it when given', async () => {
    const ensemble = createModel({ type: 'unet-ensemble', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, members: 2, seed: 1 });
    try {
      await expect(createWorkerGradients(ensemble, { workers: 1, backend: 'cpu' })).rejects.toThrow(
        /data-parallel worker: cannot rebuild the model: unknown model type "unet-ensemble".*plugins: \[\{ module: '@probunet\/baselines', export: 'baselinesPlugin' \}\]/,
      );
      const gradients = await createWorkerGradients(ensemble, { workers: 2, backend: 'cpu', plugins: [{ module: '@probunet/baselines', export: 'baselinesPlugin' }] });
      // The ensemble picks its graders itself: [B,A,H,W] labels reach the workers whole.
      const trainer = new Trainer(ensemble, { learningRate: 1e-2, seed: 9, gradientSource: gradients });
      try {
        const first = await trainer.trainStep({ images, labels });
        let last = first;
        for (let i = 0; i < 10; i++) last = await trainer.trainStep({ images, labels });
        expect(last.loss).toBeLessThan(first.loss);
      } finally {
        await gradients.close();
        trainer.dispose();
      }
    } finally {
      ensemble.dispose();
    }
  });

});
