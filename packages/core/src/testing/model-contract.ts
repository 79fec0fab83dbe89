import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint, restoreCheckpoint } from '../checkpoint/format.js';
import { modelTypeOf, type CheckpointableModel } from '../model/checkpointable.js';
import { createRegistry, type ProbUNetPlugin } from '../registry.js';
import { Trainer } from '../training/trainer.js';
import { expectNoLeakedTensors } from './assertions.js';

export interface ModelContractOptions {
  channels: number;
  /** Image height and width; a multiple of the model's down-sampling factor. Default 16. */
  size?: number;
  batch?: number;
  /** Annotations per image in the training batch ([B,A,H,W] labels). Default 2. */
  graders?: number;
  /** Plugins whose registry rebuilds the model from a checkpoint; default the core plugin only. */
  plugins?: ProbUNetPlugin[];
}

/**
 * The contract every whole model meets (the Prob. U-Net and every baseline), on top of
 * `describeSamplerContract`: uniquely named parameters that all get a finite gradient, Trainer
 * steps that leak no tensor, a checkpoint round trip (same type, config, weights and samples),
 * a checkpoint of this type refused when another type is expected, and dispose to baseline.
 */
export function describeModelContract(name: string, make: () => CheckpointableModel, options: ModelContractOptions): void {
  const { channels, size = 16, batch = 2, graders = 2 } = options;
  const inputs = (numClasses: number) => ({
    images: tf.randomUniform([batch, size, size, channels], -1, 1, 'float32', 7) as tf.Tensor4D,
    labels: tf.tidy(() => tf.cast(tf.randomUniform([batch, graders, size, size], 0, numClasses, 'float32', 9), 'int32') as tf.Tensor4D),
  });
  describe(`Model contract: ${name}`, () => {
    it('names every parameter uniquely and gives each a finite gradient', () => {
      const model = make();
      const { images, labels } = inputs(model.numClasses);
      const one = tf.tidy(() => tf.squeeze(tf.slice(labels, [0, 0, 0, 0], [batch, 1, size, size]), [1]) as tf.Tensor3D);
      const params = model.parameters();
      expect(new Set(params.map((p) => p.name)).size).toBe(params.length);
      const { value, grads } = tf.variableGrads(() => {
        const { objective, terms } = model.lossTerms(images, one, 3);
        tf.dispose(Object.values(terms));
        return objective;
      }, params.map((p) => p.variable));
      expect(Object.keys(grads).length).toBe(params.length);
      for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads), images, labels, one]);
      model.dispose();
    });

    it('trains with the Trainer without leaking tensors', async () => {
      const model = make();
      const trainer = new Trainer(model, { learningRate: 1e-3, seed: 1 });
      const { images, labels } = inputs(model.numClasses);
      await expectNoLeakedTensors(async () => {
        const m = await trainer.trainStep({ images, labels });
        expect(Number.isFinite(m.loss)).toBe(true);
      }, { what: `${name} trainStep` });
      tf.dispose([images, labels]);
      trainer.dispose();
      model.dispose();
    });

    it('round-trips through a checkpoint: same type, config and samples for the same seed', async () => {
      const model = make();
      const trainer = new Trainer(model, { learningRate: 1e-3, seed: 1 });
      const { images, labels } = inputs(model.numClasses);
      await trainer.trainStep({ images, labels }); // weights away from their initialisation
      const bytes = await encodeCheckpoint(model, trainer);
      const registry = createRegistry(options.plugins);
      const restored = restoreCheckpoint(bytes, { registry, expectedType: model.kind });
      try {
        expect(restored.model.kind).toBe(model.kind);
        expect(modelTypeOf(restored.model.getConfig())).toBe(model.kind);
        expect(restored.model.getConfig()).toEqual(model.getConfig());
        expect(restored.trainerState?.state.step).toBe(1);
        const a = model.sample(images, 3, { seed: 5 });
        const b = restored.model.sample(images, 3, { seed: 5 });
        expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
        tf.dispose([a, b]);
        const other = model.kind === 'prob-unet' ? 'deterministic-unet' : 'prob-unet';
        expect(() => restoreCheckpoint(bytes, { registry, expectedType: other, source: 'x.ckpt' })).toThrow(
          `x.ckpt holds a "${model.kind}" model, not the "${other}" the caller expects`,
        );
      } finally {
        restored.model.dispose();
        tf.dispose([images, labels]);
        trainer.dispose();
        model.dispose();
      }
    });

    it('dispose() of the model and its trainer returns to the baseline tensor count', async () => {
      const trainOnce = async () => {
        const model = make();
        const trainer = new Trainer(model, { learningRate: 1e-3 });
        const { images, labels } = inputs(model.numClasses);
        await trainer.trainStep({ images, labels });
        tf.dispose([images, labels]);
        trainer.dispose();
        model.dispose();
      };
      await trainOnce(); // warm-up: kernels may cache tensors on first use
      const before = tf.memory().numTensors;
      await trainOnce();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
