/**
 * The hierarchical Prob. U-Net's train step against the Prob. U-Net's on the same U-Net (issue 31's
 * target: ≤ 1.5× the Prob. U-Net's step time on the CPU `native` backend). Both models live in one
 * process and take turns step by step, so a host whose speed drifts (a shared 2-vCPU VM) slows both
 * alike; the ratio is taken per pair of neighbouring steps, and its median is the figure. Also times
 * 16 samples per image of each (the U-Net / prior down path once per image). Writes
 * bench/results/hierarchical-train-step-<date>.json and prints it.
 *
 *   npx tsx bench/hierarchical-train-step.ts [--backend native] [--batch 8] [--size 128] [--pairs 6] [--objective elbo|geco] [--top-k 0.02]
 *     [--task lidc|cityscapes-like]
 *
 * --task cityscapes-like times `probunet reproduce --task cityscapes-like`'s models instead of the LIDC
 * configuration, with its two latent levels [1, 1] (--size is ignored); the labels are random classes.
 *
 * It reads the packages' built `dist/` (`npx nx run-many -t build -p core baselines successors`
 * after a change), as the other benches do.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { Trainer, createProbUNet, type CheckpointableModel } from '@probunet/core';
import { writeFileAtomic } from '@probunet/core/node';
import { HierarchicalProbUNet } from '@probunet/successors';
import { CITYSCAPES_LIKE_CONFIG, CITYSCAPES_LIKE_SIZE, LIDC_CONFIG } from './lidc-config.js';
import { root } from './processes.js';
import { machineInfo, median } from './bench-utils.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '128' },
    pairs: { type: 'string', default: '6' },
    objective: { type: 'string', default: 'elbo' },
    'top-k': { type: 'string' },
    task: { type: 'string', default: 'lidc' },
  },
});
if (values.task !== 'lidc' && values.task !== 'cityscapes-like') throw new Error(`--task ${values.task}: expected lidc or cityscapes-like`);
const cityscapes = values.task === 'cityscapes-like';
const batch = Number(values.batch);
const size = cityscapes ? CITYSCAPES_LIKE_SIZE.height : Number(values.size);
const width = cityscapes ? CITYSCAPES_LIKE_SIZE.width : size;
const pairs = Number(values.pairs);
const topKPercentage = values['top-k'] === undefined ? null : Number(values['top-k']);
const log = (s: string) => process.stderr.write(`${s}\n`);

tf.env().set('PROD', true);
const report = await initBackend(values.backend as BackendPreference);
const CONFIG = cityscapes ? CITYSCAPES_LIKE_CONFIG : LIDC_CONFIG;
const { inputChannels, numClasses, channels, convsPerBlock } = CONFIG;
const probUNet = createProbUNet({ ...CONFIG, seed: 0 });
// cityscapes-like: the reproduce study's two latent levels (its U-Net has two scales below the finest).
const hierarchical = new HierarchicalProbUNet({ inputChannels, numClasses, channels, convsPerBlock, seed: 0, objective: values.objective as 'elbo' | 'geco', topKPercentage, ...(cityscapes ? { latentDims: [1, 1] } : {}) });
const images = tf.randomUniform([batch, size, width, inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch, 4, size, width], 0, numClasses, 'float32', 2)), 'int32')) as tf.Tensor4D;

const models: Array<[string, CheckpointableModel]> = [['prob-unet', probUNet], ['hierarchical-prob-unet', hierarchical]];
const trainers = models.map(([, m]) => new Trainer(m, { learningRate: 1e-4, validate: false }));
const count = (m: CheckpointableModel) => m.parameters().reduce((a, p) => a + p.variable.size, 0);
for (const t of trainers) await t.trainStep({ images, labels }); // warm-up
const tensorsAfterWarmup = tf.memory().numTensors;
const ms: number[][] = [[], []];
for (let i = 0; i < pairs; i++) {
  for (const [k, t] of trainers.entries()) {
    const t0 = performance.now();
    await t.trainStep({ images, labels });
    ms[k]!.push(performance.now() - t0);
  }
  log(`pair ${i + 1}/${pairs}: prob-unet ${ms[0]!.at(-1)!.toFixed(0)} ms, hierarchical ${ms[1]!.at(-1)!.toFixed(0)} ms`);
}
const tensorGrowth = tf.memory().numTensors - tensorsAfterWarmup;
const ratios = ms[1]!.map((h, i) => h / ms[0]![i]!);

const sampling: Record<string, number> = {};
for (const [name, m] of models) {
  const run = async () => {
    const s = m.sample(images, 16, { seed: 1 });
    await s.data();
    s.dispose();
  };
  await run();
  const t0 = performance.now();
  await run();
  sampling[name] = performance.now() - t0;
}

const result = {
  benchmark: 'hierarchical Prob. U-Net train step vs the Prob. U-Net (same U-Net)',
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: report.selected,
  threads: report.threads,
  batch,
  task: values.task,
  size: [size, width],
  unet: { channels, convsPerBlock },
  hierarchical: { latentDims: hierarchical.latentDims, objective: values.objective, topKPercentage },
  parameters: Object.fromEntries(models.map(([name, m]) => [name, count(m)])),
  msPerStep: { 'prob-unet': ms[0], 'hierarchical-prob-unet': ms[1] },
  medianMsPerStep: { 'prob-unet': median(ms[0]!), 'hierarchical-prob-unet': median(ms[1]!) },
  ratios,
  medianRatio: median(ratios),
  msSixteenSamples: sampling,
  tensorGrowth,
};
await writeFileAtomic(join(root, 'bench/results', `hierarchical-train-step-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
for (const t of trainers) t.dispose();
for (const [, m] of models) m.dispose();
tf.dispose([images, labels]);
