import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '@probunet/baselines';
import { SeededRandom, createProbUNet } from '@probunet/core';
import { createSyntheticLidc } from '@probunet/datasets';
import { assessAnnotations, EvaluationError } from './index.js';

const model = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 0 });
const data = createSyntheticLidc({ count: 3, size: 32, seed: 4 });
afterAll(() => model.dispose());

describe('assessAnnotations', () => {
  it('scores every grader of every image as scoreAnnotation does, per grader and worst first', async () => {
    const before = tf.memory().numTensors;
    const a = await assessAnnotations(model, data, { samples: 4, seed: 1, worst: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.annotations).toHaveLength(12);
    expect(a.perGrader.map((g) => g.logLikelihood.count)).toEqual([3, 3, 3, 3]);
    expect(a.leastPlausible).toHaveLength(5);
    const ll = a.leastPlausible.map((r) => r.logLikelihood);
    expect(ll).toEqual([...ll].sort((x, y) => x - y));
    expect(ll[0]).toBe(Math.min(...a.annotations.map((r) => r.logLikelihood)));
    // Image 1 scored directly: its graders as one batch with the image's derived seed.
    const ex = await data.get(1);
    const images = tf.tile(tf.tensor4d(ex.image, [1, 32, 32, 1]), [4, 1, 1, 1]) as tf.Tensor4D;
    const labels = tf.tensor3d(Int32Array.from(ex.annotations.flatMap((x) => Array.from(x))), [4, 32, 32], 'int32');
    const direct = await model.scoreAnnotation(images, labels, { samples: 4, seed: SeededRandom.derive(1, 17, 1).nextSeed() });
    tf.dispose([images, labels]);
    const mine = a.annotations.filter((x) => x.index === 1);
    expect(mine.map((x) => x.grader)).toEqual([0, 1, 2, 3]);
    mine.forEach((x, g) => {
      expect(x.logLikelihood).toBeCloseTo(direct.logLikelihood[g]!, 6);
      expect(x.elbo).toBeCloseTo(direct.elbo[g]!, 6);
      expect(x.kl).toBeGreaterThanOrEqual(0);
    });
  });

  it('needs a model that can score annotations', async () => {
    const unet = createModel({ type: 'deterministic-unet', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, seed: 2 });
    try {
      await expect(assessAnnotations(unet as never, data)).rejects.toThrow(EvaluationError);
    } finally {
      unet.dispose();
    }
  });
});
