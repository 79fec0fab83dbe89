import * as tf from '@tensorflow/tfjs-core';
import { baselinesPlugin } from '@probunet/baselines';
import { Trainer, corePlugin, createRegistry, encodeCheckpoint, restoreCheckpoint, type TrainBatch } from '@probunet/core';
import { describe, expect, it } from 'vitest';
import { successorsPlugin } from '../plugin.js';
import { HierarchicalProbUNet } from './hierarchical-prob-unet.js';
import type { HierarchicalProbUNetConfig } from './config.js';

const registry = createRegistry([corePlugin, baselinesPlugin, successorsPlugin]);
const config = (extra: Partial<HierarchicalProbUNetConfig> = {}): HierarchicalProbUNetConfig => ({
  inputChannels: 1, numClasses: 2, channels: [4, 8, 8], convsPerBlock: 1, latentDims: [1, 1], seed: 3, objective: 'geco', ...extra,
});
const batch = (): TrainBatch => {
  const images = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
  // Image 0 has 16 ignored pixels (255: two rows of 8), image 1 none: 48 and 64 valid pixels, mean 56.
  const labels = tf.tidy(() => {
    const l = tf.cast(tf.greater(tf.randomUniform([2, 8, 8], 0, 1, 'float32', 6), 0.5), 'int32');
    const ignore = tf.concat([tf.concat([tf.ones([1, 2, 8]), tf.zeros([1, 6, 8])], 1), tf.zeros([1, 8, 8])], 0);
    return tf.where(tf.cast(ignore, 'bool'), tf.fill([2, 8, 8], 255, 'int32'), l) as tf.Tensor3D;
  });
  return { images, labels };
};
const lambdaOf = (m: HierarchicalProbUNet) => m.lagrangeMultiplier!.variable.dataSync()[0]!;

describe('GECO (objective: "geco")', () => {
  it('starts λ at 1 (the authors’ initial value) and reports it; the ELBO model has no λ', () => {
    const model = new HierarchicalProbUNet(config());
    expect(lambdaOf(model)).toBe(1);
    expect(model.parameters().map((p) => p.name)).toContain('geco/lagrangeMultiplier');
    const elbo = new HierarchicalProbUNet(config({ objective: 'elbo' }));
    expect(elbo.lagrangeMultiplier).toBeUndefined();
    expect(elbo.parameters().some((p) => p.name.startsWith('geco/'))).toBe(false);
    model.dispose();
    elbo.dispose();
  });

  it('the objective is λ·(CE − κ·mean valid pixels) + Σ KL, and its gradient in λ is −rate·(CE − κ·mean valid pixels)', async () => {
    const model = new HierarchicalProbUNet(config({ gecoKappa: 0.3, gecoRate: 0.02 }));
    const { images, labels } = batch();
    let terms: Record<string, number> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = model.lossTerms(images, labels as tf.Tensor3D, 7);
      terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, t.dataSync()[0]!]));
      tf.dispose(Object.values(out.terms));
      return out.objective;
    }, [model.lagrangeMultiplier!.variable]);
    const constraint = terms.reconstruction! - 0.3 * 56; // (48 + 64) / 2 valid pixels, counted by hand
    expect(terms.lagrangeMultiplier).toBe(1);
    expect(value.dataSync()[0]).toBeCloseTo(1 * constraint + terms.kl!, 3);
    const g = Object.values(grads)[0]!.dataSync()[0]!;
    expect(g).toBeCloseTo(-0.02 * constraint, 5);
    tf.dispose([value, ...Object.values(grads), images, labels]);
    model.dispose();
  });

  it.each([
    ['grows while the reconstruction misses its target (κ small)', 0.05, 1],
    ['shrinks once the reconstruction meets it (κ large)', 50, -1],
  ])('λ %s: one Adam step moves it by the learning rate in that direction', async (_, gecoKappa, sign) => {
    const model = new HierarchicalProbUNet(config({ gecoKappa }));
    const trainer = new Trainer(model, { learningRate: 1e-3, seed: 1 });
    const b = batch();
    const m = await trainer.trainStep(b);
    expect(Math.sign(m.terms.reconstruction! - gecoKappa * 56)).toBe(sign);
    // Adam's first update is lr·g/(|g| + ε): λ moves by lr against the sign of g = −rate·constraint.
    expect(lambdaOf(model)).toBeCloseTo(1 + sign * 1e-3, 6);
    tf.dispose([b.images, b.labels]);
    trainer.dispose();
    model.dispose();
  });

  it('λ and its Adam moments survive a checkpoint: a resumed run continues exactly as the straight run', async () => {
    const straight = new HierarchicalProbUNet(config());
    const t1 = new Trainer(straight, { learningRate: 1e-3, seed: 4 });
    const b = batch();
    for (let i = 0; i < 3; i++) await t1.trainStep(b);

    const first = new HierarchicalProbUNet(config());
    const t2 = new Trainer(first, { learningRate: 1e-3, seed: 4 });
    for (let i = 0; i < 2; i++) await t2.trainStep(b);
    const bytes = await encodeCheckpoint(first, t2);
    const restored = restoreCheckpoint<HierarchicalProbUNet>(bytes, { registry, expectedType: 'hierarchical-prob-unet' });
    expect(lambdaOf(restored.model)).toBe(lambdaOf(first));
    const t3 = Trainer.fromState(restored.model, restored.trainerState!);
    await t3.trainStep(b);

    expect(lambdaOf(straight)).not.toBe(1);
    expect(lambdaOf(restored.model)).toBe(lambdaOf(straight));
    const weights = (m: HierarchicalProbUNet) => m.parameters().flatMap((p) => Array.from(p.variable.dataSync()));
    expect(weights(restored.model)).toEqual(weights(straight));
    tf.dispose([b.images, b.labels]);
    for (const t of [t1, t2, t3]) t.dispose();
    for (const m of [straight, first, restored.model]) m.dispose();
  });
});
