import * as tf from '@tensorflow/tfjs-core';
import { ModelGradients, Trainer, createProbUNet, type GradientResult, type GradientSource, type ProbUNet } from '@probunet/core';
import { tolerance } from '@probunet/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkerGradients, shardSeed } from './index.js';

// Workers run the built @probunet/core (npm ci builds it), on the cpu backend here so that the
// reference below, computed in this process on cpu, must agree to float precision.
const config = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

/** In-process reference: the same shards, the same shard seeds, gradients averaged by shard size. */
class ShardedReference implements GradientSource {
  private readonly whole: ModelGradients;
  constructor(
    model: ProbUNet,
    private readonly shards: number,
  ) {
    this.whole = new ModelGradients(model, 1e-5);
  }
  async computeGradients(images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D, seed: number): Promise<GradientResult> {
    const b = images.shape[0];
    const bounds = Array.from({ length: this.shards + 1 }, (_, i) => Math.round((i * b) / this.shards));
    const sum = new Map<string, tf.Tensor>();
    let loss = 0;
    let hsn = 0;
    const terms: Record<string, number> = {};
    for (let i = 0; i < this.shards; i++) {
      const [r0, r1] = [bounds[i]!, bounds[i + 1]!];
      const x = tf.slice(images, [r0, 0, 0, 0], [r1 - r0, -1, -1, -1]);
      const y = tf.slice(labels as tf.Tensor3D, [r0, 0, 0], [r1 - r0, -1, -1]);
      const g = await this.whole.computeGradients(x, y, shardSeed(seed, i));
      const share = (r1 - r0) / b;
      for (const [name, t] of g.grads) {
        const prev = sum.get(name);
        sum.set(name, tf.tidy(() => (prev ? tf.add(prev, tf.mul(t, share)) : tf.mul(t, share))));
        prev?.dispose();
      }
      tf.dispose([x, y, ...g.grads.values()]);
      loss += share * g.loss;
      hsn = g.halfSquaredNorm;
      for (const [k, v] of Object.entries(g.terms)) terms[k] = (terms[k] ?? 0) + share * v;
    }
    return { grads: sum, loss, terms, halfSquaredNorm: hsn };
  }
}

async function flatWeights(m: ProbUNet): Promise<number[]> {
  const out: number[] = [];
  for (const p of m.parameters()) out.push(...(await p.variable.data()));
  return out;
}

describe('createWorkerGradients', () => {
  const images = tf.randomUniform([5, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = tf.cast(tf.greater(tf.randomUniform([5, 3, 8, 8], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor4D;
  afterAll(() => tf.dispose([images, labels]));

  it('matches the in-process average of the same shard gradients, step after step', async () => {
    const parallelModel = createProbUNet(config);
    const gradients = await createWorkerGradients(parallelModel, { workers: 2, backend: 'cpu' });
    const dp = new Trainer(parallelModel, { learningRate: 1e-2, seed: 9, gradientSource: gradients });
    const refModel = createProbUNet(config);
    const ref = new Trainer(refModel, { learningRate: 1e-2, seed: 9, gradientSource: new ShardedReference(refModel, 2) });
    try {
      for (let i = 0; i < 3; i++) {
        const a = await dp.trainStep({ images, labels });
        const b = await ref.trainStep({ images, labels });
        expect(a.loss).toBeCloseTo(b.loss, 3);
      }
      const [wa, wb] = [await flatWeights(parallelModel), await flatWeights(refModel)];
      let maxDiff = 0;
      for (let i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i]! - wb[i]!));
      expect(maxDiff).toBeLessThan(tolerance('forward'));
    } finally {
      await gradients.close();
      for (const x of [dp, ref, parallelModel, refModel]) x.dispose();
    }
  });

  it.each(['wasm', 'wasm-native', 'native'] as const)('trains on %s workers (the loss falls) without growing the main thread\u2019s tensors', async (backend) => {
    const model = createProbUNet(config);
    const gradients = await createWorkerGradients(model, { workers: 2, backend });
    const dp = new Trainer(model, { learningRate: 1e-2, seed: 9, gradientSource: gradients });
    const refModel = createProbUNet(config);
    const ref = new Trainer(refModel, { learningRate: 1e-2, seed: 9, gradientSource: new ShardedReference(refModel, 2) });
    try {
      const first = await dp.trainStep({ images, labels });
      // The first step's loss comes from identical weights: the workers' backend agrees with cpu.
      const refFirst = await ref.trainStep({ images, labels });
      expect(Math.abs(first.loss - refFirst.loss) / refFirst.loss).toBeLessThan(tolerance('forward'));
      const before = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 15; i++) last = await dp.trainStep({ images, labels });
      expect(tf.memory().numTensors).toBe(before);
      expect(last.loss).toBeLessThan(first.loss);
      expect(gradients.workerCount).toBe(2);
    } finally {
      await gradients.close();
      for (const x of [dp, ref, model, refModel]) x.dispose();
    }
  });

  it('reports a worker that cannot build the model', async () => {
    const model = createProbUNet(config);
    await expect(createWorkerGradients(model, { workers: 1, backend: 'webgpu' as never })).rejects.toThrow(/data-parallel worker: backend "webgpu" could not be initialised/);
    model.dispose();
  });

  it('a Trainer refuses worker gradients computed with another weight decay', async () => {
    const model = createProbUNet(config);
    const gradients = await createWorkerGradients(model, { workers: 1, backend: 'cpu', weightDecay: 0 });
    try {
      expect(() => new Trainer(model, { gradientSource: gradients })).toThrow(/weightDecay 0, the Trainer uses 0.00001/);
    } finally {
      await gradients.close();
      model.dispose();
    }
  });
});
