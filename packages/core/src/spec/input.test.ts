import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { canReadSync, validateImages, validateImagesAsync, type InputSpec } from './input.js';

const spec: InputSpec = { channels: 1, numClasses: 2, ignoreLabel: 255, downsamplingFactor: 4 };

describe('canReadSync and the value checks it gates', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
    tf.removeBackend('webgpu');
  });

  it('reads synchronously on cpu: validateImages refuses a NaN image', () => {
    expect(canReadSync()).toBe(true);
    const bad = tf.tensor4d([0, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 4, 4, 1]);
    expect(() => validateImages(bad, spec)).toThrow(/images contain NaN or Inf values/);
    bad.dispose();
  });

  it('refuses NaN, +Inf and -Inf wherever they are, sync and async, and passes finite extremes', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 7, 15]) {
        const values = new Float32Array(16);
        values[at] = bad;
        const t = tf.tensor4d(values, [1, 4, 4, 1]);
        expect(() => validateImages(t, spec), `${bad} at ${at}`).toThrow(/images contain NaN or Inf values/);
        await expect(validateImagesAsync(t, spec), `${bad} at ${at}`).rejects.toThrow(/images contain NaN or Inf values/);
        t.dispose();
      }
    }
    const fine = tf.tensor4d([3.4e38, -3.4e38, 1e-45, -0, ...new Array(12).fill(0)], [1, 4, 4, 1]);
    expect(() => validateImages(fine, spec)).not.toThrow();
    await expect(validateImagesAsync(fine, spec)).resolves.toBeUndefined();
    fine.dispose();
  });

  it('never reads synchronously on a backend named webgpu (browser or Node); validateImages checks the shape only', async () => {
    // A cpu backend under the name 'webgpu', with an OffscreenCanvas present as in a browser: the
    // gate depends on the name alone, so the (unreliable) OffscreenCanvas read is never used.
    const g = globalThis as { OffscreenCanvas?: unknown };
    const had = 'OffscreenCanvas' in g;
    g.OffscreenCanvas ??= class {};
    try {
      tf.registerBackend('webgpu', () => new MathBackendCPU());
      await tf.setBackend('webgpu');
      expect(canReadSync()).toBe(false);
      const bad = tf.tensor4d([0, NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 4, 4, 1]);
      // No kernel runs (none is registered under this name): the NaN passes unread, the shape is still checked.
      expect(() => validateImages(bad, spec)).not.toThrow();
      const odd = tf.zeros([1, 5, 4, 1]);
      expect(() => validateImages(odd, spec)).toThrow(/not divisible by the encoder's down-sampling factor 4/);
      odd.dispose();
      bad.dispose();
    } finally {
      if (!had) delete g.OffscreenCanvas;
    }
  });
});
