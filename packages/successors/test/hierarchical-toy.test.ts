// Characteristic behaviour on a toy problem with two modes: an image shows a bright disc; half the
// graders outline it and half leave the mask empty. The always-on part checks that a few `fit`
// steps lower the loss and that every level's KL is reported, finite; the slow part
// (PROBUNET_SLOW_TESTS=1) trains longer and checks that the coarsest latent level carries the mode:
// sharing the coarse z across samples keeps it, resampling the coarse z changes it.
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, Trainer, fit, type TrainBatch } from '@probunet/core';
import { expectNoLeakedTensors } from '@probunet/core/testing';
import { describe, expect, it } from 'vitest';
import { HierarchicalProbUNet } from '../src/hierarchical/hierarchical-prob-unet.js';

const slow = process.env.PROBUNET_SLOW_TESTS === '1';
const SIZE = 16;
const RADIUS = 4;

/** A batch of the toy task: per image a disc (intensity 1 on 0) at a random centre, 2 graders each outlining it or not (p = ½). */
function toyBatch(rng: SeededRandom, size = 8): TrainBatch {
  const images = new Float32Array(size * SIZE * SIZE);
  const labels = new Int32Array(size * 2 * SIZE * SIZE);
  for (let b = 0; b < size; b++) {
    const cy = rng.uniform(RADIUS + 1, SIZE - RADIUS - 1);
    const cx = rng.uniform(RADIUS + 1, SIZE - RADIUS - 1);
    const outlined = [rng.nextInt(2), rng.nextInt(2)];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const inside = (y + 0.5 - cy) ** 2 + (x + 0.5 - cx) ** 2 < RADIUS * RADIUS ? 1 : 0;
        images[(b * SIZE + y) * SIZE + x] = inside;
        for (let g = 0; g < 2; g++) labels[((b * 2 + g) * SIZE + y) * SIZE + x] = inside * outlined[g]!;
      }
    }
  }
  return { images: tf.tensor4d(images, [size, SIZE, SIZE, 1]), labels: tf.tensor4d(labels, [size, 2, SIZE, SIZE], 'int32') };
}

async function* toyStream(seed: number): AsyncGenerator<TrainBatch> {
  const rng = new SeededRandom(seed);
  for (;;) yield toyBatch(rng);
}

/** Per sample, whether it outlines the disc (more than a quarter of its ~50 pixels). */
async function outlined(samples: tf.Tensor4D): Promise<boolean[][]> {
  const [b, n] = samples.shape;
  const counts = tf.tidy(() => tf.sum(samples, [2, 3]));
  const data = await counts.data();
  counts.dispose();
  return Array.from({ length: b }, (_, i) => Array.from({ length: n }, (_, j) => data[i * n + j]! > 12));
}

const makeModel = () => new HierarchicalProbUNet({ inputChannels: 1, numClasses: 2, channels: [8, 8, 8, 8], convsPerBlock: 1, latentDims: [1, 1, 1], seed: 0 });

describe('HierarchicalProbUNet on a two-mode toy problem', () => {
  it('a few fit steps lower the loss; every level’s KL is reported and finite; no tensor growth', async () => {
    const before = tf.memory().numTensors;
    const model = makeModel();
    const trainer = new Trainer(model, { learningRate: 5e-3, seed: 2 });
    const losses: Array<{ loss: number; terms: Record<string, number> }> = [];
    const result = await fit(trainer, toyStream(1), { steps: 25, onStep: (m) => void losses.push({ loss: m.loss, terms: m.terms }) });
    expect(result.stopped).toBe('finished');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5).map((l) => l.loss))).toBeLessThan(0.7 * mean(losses.slice(0, 3).map((l) => l.loss)));
    for (const { terms } of losses) {
      expect(Object.keys(terms)).toEqual(['reconstruction', 'kl0', 'kl1', 'kl2', 'kl']);
      for (const v of Object.values(terms)) expect(Number.isFinite(v) && v >= 0).toBe(true);
    }
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before); // every batch fit took, every step's tensors, the weights and Adam's moments freed
  }, 120_000);

  describe.runIf(slow)('after training (slow: PROBUNET_SLOW_TESTS=1)', () => {
    // What the ELBO does here (2026-12-05, 400 steps, this file): the mode goes to ONE latent level,
    // a coarse one; which one is not fixed by the objective (one latent pixel of any level can carry a
    // bit that the decoder's convolutions spread), and in our runs it was the second-coarsest while
    // the coarsest collapsed (KL ≈ 0.03 nats). So the test finds the carrying level by its KL and
    // checks that it is not the finest, that sharing the levels up to it keeps the mode, and that
    // sharing only the finest level does not.
    it('a coarse level carries the mode: shared up to it, the samples keep one; resampled, both appear', async () => {
      const steps = Number(process.env.HIERARCHICAL_TOY_STEPS ?? 400);
      const model = makeModel();
      const trainer = new Trainer(model, { learningRate: 5e-3, seed: 2 });
      const kls: number[][] = [];
      await fit(trainer, toyStream(1), {
        steps,
        onStep: (m) => {
          if (m.step > steps - 20) kls.push([m.terms.kl0!, m.terms.kl1!, m.terms.kl2!]);
          if (process.env.HIERARCHICAL_TOY_LOG && m.step % 25 === 0) console.log(m.step, m.loss.toFixed(2), JSON.stringify(m.terms));
        },
      });
      trainer.dispose();
      const meanKl = [0, 1, 2].map((l) => kls.reduce((a, k) => a + k[l]!, 0) / kls.length);
      const carrier = meanKl.indexOf(Math.max(...meanKl));
      expect(carrier).toBeLessThan(2); // not the finest level
      expect(meanKl[carrier]).toBeGreaterThan(0.5); // about a bit (ln 2 = 0.69 nats) or more: the mode is encoded

      const { images, labels } = toyBatch(new SeededRandom(99));
      labels.dispose();
      const n = 16;
      /** Over 4 draws × 8 images: the share of samples that agree with their image's majority, and which majorities occurred. */
      const agreement = async (sharedLevels: number[]) => {
        let agreeing = 0;
        let total = 0;
        const majorities = new Set<boolean>();
        for (let seed = 0; seed < 4; seed++) {
          for (const row of await outlined(model.sample(images, n, { seed: 100 + seed, sharedLevels }))) {
            const yes = row.filter(Boolean).length;
            agreeing += Math.max(yes, n - yes);
            total += n;
            majorities.add(yes > n / 2);
          }
        }
        return { share: agreeing / total, majorities: majorities.size };
      };
      const free = (await outlined(model.sample(images, n, { seed: 5 }))).flat();
      const freeShare = free.filter(Boolean).length / free.length;
      expect(freeShare).toBeGreaterThan(0.1); // both modes appear (0.75 in the run of 2026-12-05)
      expect(freeShare).toBeLessThan(0.9);
      const coarse = await agreement(Array.from({ length: carrier + 1 }, (_, l) => l));
      expect(coarse.share).toBeGreaterThan(0.9); // coarse z fixed, finer resampled: the mode stays
      expect(coarse.majorities).toBe(2); // and another coarse draw picks the other mode
      const fine = await agreement([2]);
      if (process.env.HIERARCHICAL_TOY_LOG) console.log(JSON.stringify({ meanKl, carrier, freeShare, coarse, fine }));
      expect(fine.share).toBeLessThan(0.8); // the finest z fixed, the coarse resampled: the mode changes (0.71; 1.0 when the coarse z is shared)
      await expectNoLeakedTensors(() => model.sample(images, 3, { seed: 1, sharedLevels: [0] }).dispose(), { what: 'toy sample' });
      images.dispose();
      model.dispose();
    }, 900_000);
  });
});
