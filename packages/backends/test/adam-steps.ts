import * as tf from '@tensorflow/tfjs-core';
import { Adam, sumOfSquares } from '@probunet/core/internal';
import { expect } from 'vitest';
import { initBackend, type BackendName } from '../src/index.js';

// Three steps of core's Adam on one backend (the first makes the moments; the second's gradients
// are 1000× smaller), for comparing a backend's fused update with cpu's chain of element-wise ops.

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
let runs = 0;

export async function adamSteps(backend: BackendName): Promise<{ norms: number[]; state: number[][]; weights: number[][] }> {
  await initBackend(backend);
  const id = runs++;
  const vars = new Map([
    ['a', tf.variable(rnd([3, 3, 8, 40], 67), true, `adam-steps-${id}-a`)],
    ['b', tf.variable(rnd([40], 68), true, `adam-steps-${id}-b`)],
  ]);
  const adam = new Adam();
  const norms: number[] = [];
  const before = tf.memory().numTensors;
  for (let step = 0; step < 3; step++) {
    const grads = new Map([...vars].map(([name, v]) => [name, tf.tidy(() => tf.mul(rnd(v.shape, 70 + step), step === 1 ? 1e-3 : 1))] as [string, tf.Tensor]));
    const pending = adam.prepare(vars, grads, 0.01);
    norms.push((await pending.updateSquaredNorm.data())[0]!);
    adam.commit(pending, vars);
    tf.dispose([...grads.values()]);
    // No tensor growth: only the two moments per variable, made at the first step.
    expect(tf.memory().numTensors).toBe(before + 4);
  }
  // Asynchronous reads: webgpu in Node has no synchronous readback.
  const state = await Promise.all([...adam.stateTensors().values()].map(async (t) => Array.from(await t.data())));
  const weights = await Promise.all([...vars.values()].map(async (v) => Array.from(await v.data())));
  adam.dispose();
  tf.dispose([...vars.values()]);
  return { norms, state, weights };
}

/** Which kernels one Adam update runs on the active backend: the fused one, and any of the chain's. */
export async function fusedAdamKernels(): Promise<{ fused: boolean; chain: string[] }> {
  const w = new Map([['w', tf.variable(rnd([4, 4], 80), true, `adam-profiled-${runs++}`)]]);
  const g = new Map([['w', rnd([4, 4], 81)]]);
  const adam = new Adam();
  const prof = await tf.profile(() => adam.discard(adam.prepare(w, g, 0.01)));
  tf.dispose([...w.values(), ...g.values()]);
  return { fused: prof.kernelNames.includes('ProbunetAdamUpdate'), chain: prof.kernelNames.filter((k) => ['Multiply', 'Square', 'Sqrt', 'RealDiv', 'Sub'].includes(k)) };
}

/**
 * Σ x² of a model-like list of tensors (odd sizes, one empty, one of 300,000 values) through
 * core's sumOfSquares on `backend`: the value, and the kernels one call ran.
 */
export async function sumOfSquaresRun(backend: BackendName): Promise<{ value: number; kernels: string[] }> {
  await initBackend(backend as BackendName);
  const shapes = [[3, 3, 5, 7], [7], [0, 4], [300_000], [1]];
  const ts = shapes.map((s, i) => tf.tidy(() => tf.sub(tf.randomUniform(s, 0, 2, 'float32', 100 + i), 1)));
  try {
    const prof = await tf.profile(() => sumOfSquares(ts));
    const out = sumOfSquares(ts);
    const value = (await out.data())[0]!;
    out.dispose();
    return { value, kernels: prof.kernelNames };
  } finally {
    tf.dispose(ts);
  }
}
