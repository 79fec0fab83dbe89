// A plain-JavaScript app, installed from the tarballs only: a third-party encoder registered as a
// plugin, a few training steps, samples, their GED against the graders, and a checkpoint saved and
// loaded back through the same registry. Exits non-zero (an uncaught error) when anything fails.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@probunet/backends';
import { ConvLayer, SeededRandom, Trainer, corePlugin, createProbUNet, createRegistry } from '@probunet/core';
import { loadCheckpoint, saveCheckpoint } from '@probunet/core/node';
import { generalizedEnergyDistance } from '@probunet/metrics';

const report = await initBackend('auto');
console.log(`backend: ${report.selected}`);

/** 3×3 convs at full resolution with a residual sum: written against the public Encoder interface only. */
class FlatResidualEncoder {
  kind = 'encoder';
  type = 'flat-residual';
  downsamplingFactor = 1;
  constructor(config) {
    const { inputChannels, width, depth, seed = 0 } = config;
    this.config = { type: 'flat-residual', inputChannels, width, depth, seed };
    this.inputChannels = inputChannels;
    this.featureChannels = width;
    const rng = new SeededRandom(seed);
    this.layers = Array.from({ length: depth }, (_, i) =>
      new ConvLayer({ kernelSize: 3, inputChannels: i === 0 ? inputChannels : width, outputChannels: width, activation: 'relu', weightDecay: true, rng }));
  }
  apply(images) {
    return tf.tidy(() => {
      let h = this.layers[0].apply(images);
      for (const layer of this.layers.slice(1)) h = tf.add(h, layer.apply(h));
      return h;
    });
  }
  parameters() { return this.layers.flatMap((l, i) => l.parameters(`conv${i}`)); }
  getConfig() { return { ...this.config }; }
  dispose() { for (const l of this.layers) l.dispose(); }
}

const registry = createRegistry([corePlugin, { name: 'my-encoders', encoders: { 'flat-residual': (c) => new FlatResidualEncoder(c) } }]);
const latent = { type: 'conv-gaussian', imageChannels: 1, channels: [4, 8], convsPerBlock: 1, latentDim: 2 };
const model = createProbUNet({
  encoder: { type: 'flat-residual', inputChannels: 1, width: 6, depth: 2 },
  prior: { ...latent, seed: 1 },
  posterior: { ...latent, conditionChannels: 2, seed: 2 },
  fusion: { type: 'tile-concat-1x1', featureChannels: 6, latentDim: 2, numClasses: 2, num1x1Convs: 1 },
}, { registry });
assert.equal(model.encoder.type, 'flat-residual');

const trainer = new Trainer(model, { learningRate: 3e-3, seed: 1 });
const images = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 1);
const labels = tf.stack([tf.cast(tf.greater(tf.squeeze(images, [3]), 0.5), 'int32'), tf.cast(tf.greater(tf.squeeze(images, [3]), 0.4), 'int32')], 1);
// The first step creates Adam's moments (state the trainer owns); later steps allocate nothing lasting.
const losses = [(await trainer.trainStep({ images, labels })).loss];
const tensorsBefore = tf.memory().numTensors;
for (let i = 0; i < 4; i++) losses.push((await trainer.trainStep({ images, labels })).loss);
assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
assert.equal(tf.memory().numTensors, tensorsBefore, 'training steps leaked tensors');
console.log(`5 steps, loss ${losses[0].toFixed(2)} → ${losses[4].toFixed(2)}`);

const samples = model.sample(images, 8, { seed: 3 });
assert.deepEqual(samples.shape, [2, 8, 8, 8]);
const [s, y] = [await samples.data(), await labels.data()];
const map = (data, i) => ({ data: data.subarray(i * 64, (i + 1) * 64), height: 8, width: 8 });
const { ged } = generalizedEnergyDistance([...Array(8).keys()].map((k) => map(s, k)), [0, 1].map((a) => map(y, a)));
assert.ok(Number.isFinite(ged) && ged >= 0, `GED ${ged}`);
console.log(`GED of image 0: ${ged.toFixed(3)}`);

const dir = mkdtempSync(join(tmpdir(), 'probunet-plugin-app-'));
try {
  const file = join(dir, 'plugin.ckpt');
  await saveCheckpoint(file, model, trainer);
  const restored = await loadCheckpoint(file, { registry });
  assert.equal(restored.model.encoder.type, 'flat-residual');
  assert.equal(restored.header.trainer?.step, 5);
  // The reloaded weights are the saved ones: the same seed gives the same samples.
  const again = restored.model.sample(images, 8, { seed: 3 });
  assert.deepEqual(Array.from(await again.data()), Array.from(s));
  tf.dispose(again);
  restored.model.dispose();
  console.log(`checkpoint reloaded at step ${restored.header.trainer?.step}, samples identical`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
tf.dispose([images, labels, samples]);
trainer.dispose();
model.dispose();
console.log('plugin app: ok');
