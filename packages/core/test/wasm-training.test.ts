import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createProbUNet, Trainer, type ProbUNet } from '../src/index.js';
import { relativeL2Error, tolerance } from '../src/testing/index.js';

// The wasm backend registers no Conv2DBackpropFilter kernel; our conv's gradient uses forward
// convolutions only, so the model trains there. Gradients must agree with the cpu backend.

const config = { inputChannels: 1, numClasses: 3, channels: [4, 8, 8], convsPerBlock: 2, latentDim: 3, num1x1Convs: 2, seed: 4 };

async function gradientsOn(backend: string, model: ProbUNet): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.cast(tf.floor(tf.randomUniform([2, 16, 16], 0, 3, 'float32', 2)), 'int32') as tf.Tensor3D;
  const vars = model.parameters().map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => {
    const { reconstruction, kl } = model.elboTerms(images, labels, 123);
    return tf.add(reconstruction, kl) as tf.Scalar;
  }, vars);
  const out = await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array));
  tf.dispose([value, images, labels, ...Object.values(grads)]);
  return out;
}

describe('training on the wasm backend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the stock conv filter gradient is missing on wasm (the trap this package works around)', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    expect(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.conv2d(x, ww as tf.Tensor4D, 1, 'same')))(w)).toThrow(/Conv2DBackpropFilter/);
  });

  it('gives the same gradients as cpu for every parameter', async () => {
    const model = createProbUNet(config);
    const onCpu = await gradientsOn('cpu', model);
    const onWasm = await gradientsOn('wasm', model);
    model.parameters().forEach((p, i) => {
      const err = relativeL2Error(onWasm[i]!, onCpu[i]!);
      expect(err, `relative L2 error of ${p.name}`).toBeLessThan(tolerance('forward'));
    });
    model.dispose();
  });

  it('runs train steps without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const model = createProbUNet(config);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const images = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const labels = tf.zeros([2, 16, 16], 'int32') as tf.Tensor3D;
    const first = await trainer.trainStep({ images, labels });
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 5; i++) last = await trainer.trainStep({ images, labels });
    expect(tf.memory().numTensors).toBe(before);
    expect(last.loss).toBeLessThan(first.loss);
    tf.dispose([images, labels]);
    trainer.dispose();
    model.dispose();
  });
});
