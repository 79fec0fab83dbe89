/**
 * What the reliability checks of issue 18 cost (docs/reliability-training.md): the finite-update
 * check per train step, the finite-weights check of inference (uncached and cached), and how fast a
 * forged checkpoint header asking for a 3 GB model is refused.
 *
 *   npx tsx bench/reliability-overhead.ts [--backend wasm-native] [--batch 2] [--steps 5]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { createProbUNet, encodeCheckpoint, restoreCheckpoint, Trainer } from '@probunet/core';
import { sumAll } from '@probunet/core/internal';
import { LIDC_CONFIG } from './lidc-config.js';

const { values } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm-native' }, batch: { type: 'string', default: '2' }, steps: { type: 'string', default: '5' } },
});
tf.env().set('PROD', true);
await initBackend(values.backend as BackendPreference);
const batch = Number(values.batch);
const steps = Number(values.steps);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const model = createProbUNet(LIDC_CONFIG);
const vars = model.parameters().map((p) => p.variable);
const trainer = new Trainer(model, { learningRate: 1e-4 });
const images = tf.randomUniform([batch, 128, 128, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.cast(tf.greater(tf.randomUniform([batch, 128, 128], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor3D;
await trainer.trainStep({ images, labels });
const stepMs: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await trainer.trainStep({ images, labels });
  stepMs.push(performance.now() - t0);
}
// The check's own work: per parameter Σ(Δw)² (the update exists anyway), summed, read once.
const checkMs: number[] = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  const s = tf.tidy(() => sumAll(vars.map((v) => tf.sum(tf.square(v)))));
  await s.data();
  s.dispose();
  checkMs.push(performance.now() - t0);
}
// Inference: the finite-weights flag, computed after each assign, then cached.
const one = tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
const uncached: number[] = [];
const cached: number[] = [];
for (let i = 0; i < 5; i++) {
  tf.tidy(() => vars[0]!.assign(tf.add(vars[0]!, 0))); // a new weight version
  let t0 = performance.now();
  const flags = tf.tidy(() => tf.stack(vars.map((v) => tf.mul(tf.sum(v), 0))));
  flags.dataSync();
  flags.dispose();
  uncached.push(performance.now() - t0);
  tf.dispose(model.sample(one, 1, { seed: i })); // caches the flag
  t0 = performance.now();
  tf.dispose(model.sample(one, 1, { seed: i }));
  cached.push(performance.now() - t0);
}
// A forged header: the real tensors of a tiny model, a config asking for ≈ 3 GB.
const small = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 });
const bytes = await encodeCheckpoint(small);
small.dispose();
const len = new DataView(bytes.buffer).getUint32(8, true);
const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as { model: { encoder: { channels: number[]; convsPerBlock: number } } };
header.model.encoder.channels = [4096, 4096, 4096];
header.model.encoder.convsPerBlock = 3;
const json = new TextEncoder().encode(JSON.stringify(header));
const forged = new Uint8Array(Math.ceil((16 + json.length) / 4) * 4 + (bytes.length - Math.ceil((16 + len) / 4) * 4));
forged.set(bytes.subarray(0, 8));
new DataView(forged.buffer).setUint32(8, json.length, true);
forged.set(json, 12);
const { crc32 } = await import('../packages/core/src/checkpoint/crc32.js');
new DataView(forged.buffer).setUint32(12 + json.length, crc32(forged.subarray(0, 12 + json.length)), true);
forged.set(bytes.subarray(Math.ceil((16 + len) / 4) * 4), Math.ceil((16 + json.length) / 4) * 4);
const t0 = performance.now();
let refusal = '';
try {
  restoreCheckpoint(forged);
} catch (err) {
  refusal = (err as Error).message;
}
const refusedMs = performance.now() - t0;

console.log(
  JSON.stringify(
    {
      backend: values.backend,
      parameters: vars.reduce((a, v) => a + v.size, 0),
      batch,
      trainStepMs: Math.round(median(stepMs)),
      finiteUpdateCheckMs: +median(checkMs).toFixed(2),
      finiteWeightsCheckUncachedMs: +median(uncached).toFixed(2),
      sampleOneCachedMs: +median(cached).toFixed(2),
      forgedHeaderBytes: forged.length,
      forgedHeaderRefusedMs: +refusedMs.toFixed(2),
      refusal,
    },
    null,
    2,
  ),
);
tf.dispose([images, labels, one]);
trainer.dispose();
model.dispose();
