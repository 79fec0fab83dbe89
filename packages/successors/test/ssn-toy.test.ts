/**
 * The SSN's characteristic behaviour on a toy problem after the authors' (ssn/toy_problem.py,
 * get_on_off_binary_target): every image's left third is foreground for both graders, the right
 * third background for both, and the middle third foreground for one grader and background for
 * the other. An SSN learns one coherent switch of the middle block (spatially correlated logits),
 * where independent per-pixel noise would give salt and pepper.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Trainer, fit, type StepMetrics, type TrainBatch } from '@probunet/core';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { StochasticSegmentationNetwork, logitDeviations, type LowRankLogits } from '../src/ssn/index.js';

const SIZE = 6;
const BATCH = 4;
const RANK = 3;
const STEPS = 160;
const column = (x: number) => (x < SIZE / 3 ? 'on' : x < (2 * SIZE) / 3 ? 'ambiguous' : 'off');

/** int32 [B,2,H,W]: grader 0 leaves the middle off, grader 1 turns it on. */
function toyLabels(): tf.Tensor4D {
  const values: number[] = [];
  for (let b = 0; b < BATCH; b++) {
    for (const grader of [0, 1]) {
      for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) values.push(column(x) === 'on' || (column(x) === 'ambiguous' && grader === 1) ? 1 : 0);
    }
  }
  return tf.tensor4d(values, [BATCH, 2, SIZE, SIZE], 'int32');
}

/** float32 [n,H,W,1]: a left-to-right ramp, so the net can tell the thirds apart. */
function toyImages(n: number): tf.Tensor4D {
  return tf.tidy(() => tf.tile(tf.reshape(tf.linspace(-1, 1, SIZE), [1, 1, SIZE, 1]), [n, SIZE, 1, 1]) as tf.Tensor4D);
}

async function* batches(): AsyncGenerator<TrainBatch> {
  for (;;) yield { images: toyImages(BATCH), labels: toyLabels() };
}

/** The number of dimensions the rows of `rows` span (Gram–Schmidt, residual > tol·‖row‖ counts). */
function spannedDimensions(rows: Float64Array[], tol: number): number {
  const basis: Float64Array[] = [];
  for (const row of rows) {
    const r = Float64Array.from(row);
    for (const q of basis) {
      const dot = r.reduce((s, v, i) => s + v * q[i]!, 0);
      for (let i = 0; i < r.length; i++) r[i]! -= dot * q[i]!;
    }
    const norm = Math.hypot(...r);
    if (norm > tol * Math.hypot(...row)) basis.push(r.map((v) => v / norm));
  }
  return basis.length;
}

describe('SSN on the on/off toy problem', () => {
  const model = new StochasticSegmentationNetwork({ inputChannels: 1, numClasses: 2, channels: [8, 16], convsPerBlock: 1, seed: 1, rank: RANK, mcSamples: 20 });
  const losses: number[] = [];
  let tensorsBefore = 0;
  let tensorsAfter = 0;
  let image: tf.Tensor4D;

  beforeAll(async () => {
    const trainer = new Trainer(model, { learningRate: 1e-2, seed: 2 });
    await fit(trainer, batches(), { steps: 1, onStep: (m: StepMetrics) => void losses.push(m.loss) });
    tensorsBefore = tf.memory().numTensors;
    await fit(trainer, batches(), { steps: STEPS, onStep: (m: StepMetrics) => void losses.push(m.loss) });
    tensorsAfter = tf.memory().numTensors;
    trainer.dispose();
    image = toyImages(1);
  });
  afterAll(() => {
    image.dispose();
    model.dispose();
  });

  it('training with fit lowers the Monte-Carlo loss, and keeps the tensor count', () => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 10));
    const last = mean(losses.slice(-10));
    expect(last).toBeLessThan(0.5 * first);
    // The optimum: the middle block is a fair coin, −log ½ ≈ 0.69 nats per image (an antithetic
    // pair along the switching direction draws one of each mode, so the estimate sits near it).
    // Logits independent per pixel would pay ~12 · log 2 ≈ 8.3 for the 12 middle pixels.
    expect(last).toBeLessThan(1.1);
    expect(tensorsAfter).toBe(tensorsBefore);
  });

  it('samples differ, and each switches the ambiguous block as a whole', () => {
    const n = 40;
    const samples = model.sample(image, n, { seed: 3 });
    const v = samples.dataSync();
    samples.dispose();
    /** The share of sample s's ambiguous pixels that are foreground. */
    const middle = (s: number) => {
      const pixels: number[] = [];
      for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) if (column(x) === 'ambiguous') pixels.push(v[s * SIZE * SIZE + y * SIZE + x]!);
      return pixels.reduce((a, b) => a + b, 0) / pixels.length;
    };
    const fractions = Array.from({ length: n }, (_, s) => middle(s));
    const distinct = new Set(Array.from({ length: n }, (_, s) => v.slice(s * SIZE * SIZE, (s + 1) * SIZE * SIZE).join(''))).size;
    expect(distinct).toBeGreaterThan(1);
    const onShare = fractions.filter((f) => f > 0.5).length / n;
    // Both modes drawn, neither rare: grader 1 turns the block on in half the annotations.
    expect(onShare).toBeGreaterThan(0.15);
    expect(onShare).toBeLessThan(0.85);
    // Coherent: in a typical sample the middle block is (nearly) all on or all off.
    const coherent = fractions.filter((f) => f <= 0.2 || f >= 0.8).length / n;
    expect(coherent).toBeGreaterThan(0.7);
  });

  it('draws logits whose covariance is PPᵀ + diag(D), of rank ≤ r without the diagonal', () => {
    const draws = 4000;
    const dist = model.distribution(image);
    const d = SIZE * SIZE * 2;
    const drawDeviations = (g: LowRankLogits, count: number, seed: number) =>
      tf.tidy(() =>
        tf.reshape(
          logitDeviations(g, tf.randomNormal([1, count, RANK], 0, 1, 'float32', seed) as tf.Tensor3D, tf.randomNormal([1, count, SIZE, SIZE, 2], 0, 1, 'float32', seed + 1) as tf.Tensor5D),
          [count, d],
        ),
      );
    const x = drawDeviations(dist, draws, 5);
    const xs = x.dataSync();
    const p = dist.factor.dataSync();
    const diag = dist.diagonal.dataSync();
    let err = 0;
    let norm = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let empirical = 0;
        for (let s = 0; s < draws; s++) empirical += xs[s * d + i]! * xs[s * d + j]!;
        empirical /= draws;
        let analytic = i === j ? diag[i]! : 0;
        for (let r = 0; r < RANK; r++) analytic += p[i * RANK + r]! * p[j * RANK + r]!;
        err += (empirical - analytic) ** 2;
        norm += analytic ** 2;
      }
    }
    expect(Math.sqrt(err / norm)).toBeLessThan(0.1);
    // With D → 0 the draws' deviations span exactly r of the d = 72 logit dimensions; with the
    // learned D, all of them.
    const rows = (t: tf.Tensor) => Array.from({ length: 100 }, (_, s) => Float64Array.from(t.dataSync().slice(s * d, (s + 1) * d)));
    const lowRankOnly = drawDeviations({ ...dist, diagonal: tf.zerosLike(dist.diagonal) }, 100, 7);
    expect(spannedDimensions(rows(lowRankOnly), 1e-3)).toBe(RANK);
    const full = drawDeviations(dist, 100, 9);
    expect(spannedDimensions(rows(full), 1e-3)).toBeGreaterThan(RANK);
    tf.dispose([x, lowRankOnly, full, dist.mean, dist.diagonal, dist.factor]);
  });
});
