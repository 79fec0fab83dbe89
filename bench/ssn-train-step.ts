/**
 * The SSN's train step against the Prob. U-Net's on the same U-Net (issue 31's target: SSN ≤ 1.5×
 * the Prob. U-Net's step time on the CPU `native` backend). Both models live in one process and
 * take turns step by step, so a host whose speed drifts (a shared 2-vCPU VM) slows both alike; the
 * ratio is taken per pair of neighbouring steps, and its median is the figure. Writes
 * bench/results/ssn-train-step-<date>.json and prints it.
 *
 *   npx tsx bench/ssn-train-step.ts [--backend native] [--batch 8] [--size 128] [--pairs 6] [--mc-samples 20] [--rank 10] [--profile]
 *     [--task lidc|cityscapes-like]
 *
 * --task cityscapes-like times `probunet reproduce --task cityscapes-like`'s models instead of the LIDC
 * configuration: 32×64 RGB images, 24 classes, U-Net [16, 32, 64] with 2 convs per block (--size is
 * ignored); the labels are random classes.
 *
 * --profile adds, per model, the kernels one step spends its time in (as train-step.ts does).
 *
 * It reads the packages' built `dist/` (`npx nx run-many -t build -p core baselines successors`
 * after a change), as the other benches do.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { baselinesPlugin } from '@probunet/baselines';
import { Trainer, corePlugin, createProbUNet, createRegistry, type CheckpointableModel, type ModelConfig } from '@probunet/core';
import { writeFileAtomic } from '@probunet/core/node';
import { successorsPlugin } from '@probunet/successors';
import { CITYSCAPES_LIKE_CONFIG, CITYSCAPES_LIKE_SIZE, LIDC_CONFIG } from './lidc-config.js';
import { root } from './processes.js';
import { kernelProfile, machineInfo, median } from './bench-utils.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '128' },
    pairs: { type: 'string', default: '6' },
    'mc-samples': { type: 'string', default: '20' },
    rank: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
    task: { type: 'string', default: 'lidc' },
  },
});
if (values.task !== 'lidc' && values.task !== 'cityscapes-like') throw new Error(`--task ${values.task}: expected lidc or cityscapes-like`);
const cityscapes = values.task === 'cityscapes-like';
const batch = Number(values.batch);
const size = cityscapes ? CITYSCAPES_LIKE_SIZE.height : Number(values.size);
const width = cityscapes ? CITYSCAPES_LIKE_SIZE.width : size;
const pairs = Number(values.pairs);

tf.env().set('PROD', true);
const report = await initBackend(values.backend as BackendPreference);
const registry = createRegistry([corePlugin, baselinesPlugin, successorsPlugin]);
const CONFIG = cityscapes ? CITYSCAPES_LIKE_CONFIG : LIDC_CONFIG;
const { inputChannels, numClasses, channels, convsPerBlock } = CONFIG;
const ssnConfig = { type: 'ssn', inputChannels, numClasses, channels, convsPerBlock, seed: 0, rank: Number(values.rank), mcSamples: Number(values['mc-samples']) };
const models = {
  'prob-unet': createProbUNet({ ...CONFIG, seed: 0 }),
  ssn: registry.createModel(ssnConfig as ModelConfig),
};
const images = tf.randomUniform([batch, size, width, inputChannels], 0, 1, 'float32', 1) as tf.Tensor4D;
const labels = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch, 4, size, width], 0, numClasses, 'float32', 2)), 'int32')) as tf.Tensor4D;
const trainers: Record<keyof typeof models, Trainer<CheckpointableModel>> = {
  'prob-unet': new Trainer<CheckpointableModel>(models['prob-unet'], { learningRate: 1e-5, validate: false }),
  ssn: new Trainer(models.ssn, { learningRate: 1e-5, validate: false }),
};

async function step(name: keyof typeof models): Promise<number> {
  const t0 = performance.now();
  await trainers[name].trainStep({ images, labels });
  return performance.now() - t0;
}

// Warm-up: one step each (kernel caches, allocator pools).
await step('prob-unet');
await step('ssn');
const tensorsAfterWarmup = tf.memory().numTensors;
const runs: Array<{ probUNetMs: number; ssnMs: number; ratio: number }> = [];
for (let i = 0; i < pairs; i++) {
  // Alternate which model goes first, so neither always follows the other's garbage.
  const [first, second] = i % 2 === 0 ? (['prob-unet', 'ssn'] as const) : (['ssn', 'prob-unet'] as const);
  const a = await step(first);
  const b = await step(second);
  const probUNetMs = first === 'prob-unet' ? a : b;
  const ssnMs = first === 'ssn' ? a : b;
  runs.push({ probUNetMs, ssnMs, ratio: ssnMs / probUNetMs });
  process.stderr.write(`pair ${i + 1}/${pairs}: prob-unet ${probUNetMs.toFixed(0)} ms, ssn ${ssnMs.toFixed(0)} ms, ratio ${(ssnMs / probUNetMs).toFixed(3)}\n`);
}
/** Kernel time of one step by kernel, the top 12. */
const profile = async (name: keyof typeof models) =>
  (await kernelProfile(() => trainers[name].trainStep({ images, labels }), 12)).map((k) => ({ ...k, share: Number(k.share.toFixed(3)) }));
const profiles = values.profile ? { probUNet: await profile('prob-unet'), ssn: await profile('ssn') } : undefined;
const count = (m: (typeof models)[keyof typeof models]) => m.parameters().reduce((n, p) => n + p.variable.size, 0);
const result = {
  benchmark: 'ssn vs prob-unet train step',
  date: new Date().toISOString(),
  machine: machineInfo(),
  backend: report.selected,
  threads: report.threads,
  batch,
  task: values.task,
  size: [size, width],
  unet: { channels, convsPerBlock },
  probUNet: { latentDim: CONFIG.latentDim, num1x1Convs: CONFIG.num1x1Convs, parameters: count(models['prob-unet']) },
  ssn: { ...models.ssn.getConfig(), parameters: count(models.ssn) },
  pairs: runs,
  medianMsPerStep: { probUNet: median(runs.map((r) => r.probUNetMs)), ssn: median(runs.map((r) => r.ssnMs)) },
  medianRatio: median(runs.map((r) => r.ratio)),
  tensorGrowthPerPair: (tf.memory().numTensors - tensorsAfterWarmup) / pairs,
  peakRssMB: process.resourceUsage().maxRSS / 1024,
  ...(profiles ? { profiles } : {}),
};
await writeFileAtomic(join(root, 'bench/results', `ssn-train-step-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
for (const t of Object.values(trainers)) t.dispose();
for (const m of Object.values(models)) m.dispose();
tf.dispose([images, labels]);
