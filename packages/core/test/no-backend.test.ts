import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { NoBackendError, createProbUNet } from '../src/index.js';

describe('a model before any backend is initialised', () => {
  it('fails with an error that says to call initBackend, not tfjs\u2019s "No backend found in registry."', () => {
    const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown>; backendInstance: unknown };
    const saved = { factories: engine.registryFactory, instance: engine.backendInstance };
    // As in a fresh process that imported @probunet/core and no backend.
    engine.registryFactory = {};
    engine.backendInstance = null;
    try {
      expect(() => createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8] })).toThrow(NoBackendError);
      expect(() => createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8] })).toThrow(/createProbUNet needs a TensorFlow\.js backend.*call initBackend\(\) from @probunet\/backends/);
    } finally {
      engine.registryFactory = saved.factories;
      engine.backendInstance = saved.instance;
    }
    const model = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8] });
    model.dispose();
  });
});
