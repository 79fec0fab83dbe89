/**
 * The two pieces of the SSN's Monte-Carlo loss that @probunet/native fuses, each against the way
 * TensorFlow.js computes it, on one backend (default `native`, all its threads), at the cityscapes-like
 * study's size (batch 8, 20 draws, 32×64 pixels, 24 classes):
 *
 * - the label log-likelihood of every draw and its gradient: core's `drawLogLikelihoods` (one fused
 *   kernel each way where the backend has the `fusedSoftmaxLikelihood` capability) against the chain
 *   `Σ logSoftmax(x) · t` that TensorFlow.js differentiates op by op;
 * - standard-normal noise of the draws' shape: core's `randomStandardNormal` (the `fusedRandomNormal`
 *   kernel) against the seeded `tf.randomNormal` (JavaScript).
 *
 *   npx tsx bench/ssn-loss-kernels.ts [--backend native] [--repeats 7]
 *
 * Median milliseconds of `--repeats` runs after one warm-up (CPU backends: nothing is read back); writes
 * bench/results/ssn-loss-kernels-<date>.json and prints it. Not part of `npm run bench`.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { backendCapabilities, drawLogLikelihoods, oneHotMasked, randomStandardNormal } from '@probunet/core/internal';
import { writeFileAtomic } from '@probunet/core/node';
import { root } from './processes.js';
import { machineInfo, median } from './bench-utils.js';

const { values: args } = parseArgs({ options: { backend: { type: 'string', default: 'native' }, repeats: { type: 'string', default: '7' } } });
const repeats = Number(args.repeats);
if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`--repeats must be a positive integer, got ${args.repeats}`);
const report = await initBackend(args.backend as BackendPreference);
const [b, s, h, w, k] = [8, 20, 32, 64, 24];

/**
 * Median ms of `fn` over `repeats` runs after a warm-up. The CPU backends (native, wasm-native, cpu)
 * run kernels when they are called, so the call's time is the work's; nothing is read back (reading
 * a 31 MB tensor back costs ≈ 90 ms on native, more than the work measured here).
 */
function time(fn: () => tf.Tensor): number {
  if (!['native', 'wasm-native', 'wasm', 'cpu'].includes(tf.getBackend())) throw new Error(`ssn-loss-kernels times synchronous CPU backends only, not ${tf.getBackend()}`);
  const ms: number[] = [];
  for (let r = 0; r <= repeats; r++) {
    const t0 = performance.now();
    const out = fn();
    if (r > 0) ms.push(performance.now() - t0);
    out.dispose();
  }
  return median(ms);
}

const logits = tf.tidy(() => tf.mul(tf.randomNormal([b, s, h, w, k], 0, 1, 'float32', 1), 3));
const oneHot = tf.tidy(() => oneHotMasked(tf.randomUniform([b, h, w], 0, k, 'int32', 2) as tf.Tensor3D, k, 255));
const before = tf.memory().numTensors;
const chain = (x: tf.Tensor) => tf.sum(tf.reshape(tf.mul(tf.reshape(tf.logSoftmax(tf.reshape(x, [-1, k])), x.shape), tf.expandDims(oneHot, 1)), [b, s, -1]), 2);
const likelihood = {
  chainMs: time(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(chain(x)))(logits))),
  fusedMs: time(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(drawLogLikelihoods(x, oneHot)))(logits))),
};
const noise = {
  tfRandomNormalMs: time(() => tf.randomNormal([b, s, h, w, k], 0, 1, 'float32', 3)),
  randomStandardNormalMs: time(() => randomStandardNormal([b, s, h, w, k], 3)),
};
const growth = tf.memory().numTensors - before;
tf.dispose([logits, oneHot]);

const result = {
  benchmark: 'ssn loss kernels: fused against TensorFlow.js',
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: report.selected,
  capabilities: backendCapabilities(),
  shape: { batch: b, draws: s, height: h, width: w, classes: k, values: b * s * h * w * k },
  repeats,
  likelihoodForwardAndGradient: { ...likelihood, speedup: likelihood.chainMs / likelihood.fusedMs },
  noise: { ...noise, speedup: noise.tfRandomNormalMs / noise.randomStandardNormalMs },
  tensorGrowth: growth,
};
await writeFileAtomic(join(root, 'bench/results', `ssn-loss-kernels-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
