/**
 * One benchmark case, run in its own process by bench/run.ts: initialise a backend, build the LIDC
 * configuration, time train steps and sampling. Prints one JSON line. A crash (e.g. the wasm heap's
 * 4 GiB limit) kills only this process; the parent records it.
 *   tsx bench/train-step.ts --backend wasm --batch 8 --steps 3 [--sampling] [--size 128]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, nativeKernelCounters, type BackendPreference } from '@probunet/backends';
import { Trainer, createProbUNet } from '@probunet/core';
import { createWorkerGradients } from '@probunet/backends/node';
import { loadNativeKernels } from '@probunet/native';
import { LIDC_CONFIG } from './lidc-config.js';
import { kernelProfile } from './bench-utils.js';


const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '3' },
    size: { type: 'string', default: '128' },
    sampling: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    workers: { type: 'string', default: '0' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const size = Number(values.size);

tf.env().set('PROD', true);
const report = await initBackend(values.backend as BackendPreference);
const model = createProbUNet({ ...LIDC_CONFIG, seed: 0 });
const images = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.cast(tf.greater(tf.randomUniform([batch, 4, size, size], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor4D;
const out: Record<string, unknown> = { backend: report.selected, tfBackend: report.tfBackend, threads: report.threads, batch, size };
// Which native kernels ran (micro-kernel width, Winograd on or off).
if (report.selected === 'native' || report.selected === 'wasm-native') {
  const { isa, winograd } = loadNativeKernels().info();
  out.nativeKernels = { isa, winograd };
}

async function median(fn: () => Promise<unknown> | unknown, warmup: number, reps: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

if (steps > 0) {
  const workers = Number(values.workers);
  const gradients = workers > 0 ? await createWorkerGradients(model, { workers, backend: values.backend as 'wasm' }) : undefined;
  const trainer = new Trainer(model, { learningRate: 1e-4, validate: false, ...(gradients ? { gradientSource: gradients } : {}) });
  if (workers > 0) out.workers = workers;
  await trainer.trainStep({ images, labels });
  const tensorsAfterWarmup = tf.memory().numTensors;
  const nativeBefore = nativeKernelCounters().nativeMs;
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await trainer.trainStep({ images, labels });
    stepMs.push(performance.now() - t0);
  }
  const ms = [...stepMs].sort((a, b) => a - b)[Math.floor(steps / 2)]!;
  const meanMs = stepMs.reduce((a, b) => a + b, 0) / steps;
  out.train = {
    steps,
    msPerStep: ms,
    msPerImage: ms / batch,
    // The mean, for shares of the step (the native time below is a mean too).
    meanMsPerStep: meanMs,
    tensorGrowthPerStep: (tf.memory().numTensors - tensorsAfterWarmup) / steps,
    // In-process wasm-native and native only: the wall time their native kernels took, per step (mean).
    ...((report.selected === 'wasm-native' || report.selected === 'native') && workers === 0 ? { nativeMsPerStep: (nativeKernelCounters().nativeMs - nativeBefore) / steps } : {}),
  };
  if (values.profile) {
    // Which kernels a train step spends its time in (kernel time as the backend reports it).
    out.profile = await kernelProfile(() => trainer.trainStep({ images, labels }), 20);
  }
  await gradients?.close();
  trainer.dispose();
}
if (values.sampling) {
  const run = (n: number, recomputeFeatures: boolean) => async () => {
    const s = model.sample(images, n, { seed: 1, recomputeFeatures });
    await s.data();
    s.dispose();
  };
  const one = await median(run(1, false), 1, 3);
  const sixteen = await median(run(16, false), 1, 3);
  const naive = await median(run(16, true), 0, 1);
  out.sampling = { batch, msOneSample: one, msSixteenSamples: sixteen, msSixteenNaive: naive, ratioSixteenToOne: sixteen / one, ratioNaiveToShared: naive / sixteen };
  const a = tf.randomNormal([1024, 1024]);
  const mm = await median(async () => {
    const c = tf.matMul(a, a);
    await c.data();
    c.dispose();
  }, 1, 5);
  out.matmulGflops = (2 * 1024 ** 3) / (mm / 1000) / 1e9;
  a.dispose();
}
out.peakRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify(out));
