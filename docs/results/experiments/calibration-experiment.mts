/**
 * One calibration experiment of issue 27: trains the Prob. U-Net alone on cityscapes-like (default)
 * or, with `--task lidc-like`, lidc-like data as
 * `probunet reproduce --task cityscapes-like` does (same data recipe — 4 graders per image, test
 * split seed + 1,000,003 —, same U-Net, Trainer, batch and evaluation seed), with the settings under
 * test changed, then scores its flip calibration (`summarizeFlipCalibration` through
 * `evaluateSampler`, 16 samples per test image) and whether the posterior carries each flip (every
 * test annotation reconstructed from its posterior mean), and writes result.json,
 * mode-frequencies.png and calibration.png into --out.
 *
 * Needs built packages (`npx nx run-many -t build`); from the repository root:
 *   nice -n 10 npx tsx docs/results/experiments/calibration-experiment.mts --steps 2000 --out docs/results/experiments/e1-baseline
 * Options (defaults: the full budget's data and model, 2,000 steps):
 *   --height 32 --width 64 --person-scale 1 --train-images 2000 --test-images 100 --steps 2000
 *   --batch 8 --lr 1e-3,2.5e-4@1600 (piecewise, as train's --lr; default drops ×¼ at 80 %) --seed 0
 *   --backend native --task cityscapes-like (lidc-like: --size 32 sets both sides, --noise the
 *   background noise's standard deviation (default 0.25), GED and mode
 *   shares are scored, --person-scale does not apply) --sample-counts 16 (comma list; GED is read at 16, calibration at the largest:
 *   more samples per image lower the estimator's noise floor, not the model's miss)
 *   --latent-dim N and --beta B change the Prob. U-Net's latent size (paper: 6) and KL weight (paper: 1):
 *   diagnostics only, recorded in result.json's settings
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@probunet/backends';
import { createModel } from '@probunet/baselines';
import { fit, type ModelConfig, type ProbUNet } from '@probunet/core';
import { batches, createSyntheticCityscapes, createSyntheticLidc, prefetch, tensorBatches } from '@probunet/datasets';
import { evaluateSampler } from '@probunet/evaluation';
import { recordImageFlips } from '@probunet/metrics';
import { modelConfigOf, studyPlan } from '../../../apps/cli/src/commands/reproduce-plan.js';
import { calibrationFigure, modeFrequencyFigure } from '../../../apps/cli/src/figures/evaluation-figures.js';
import { createTrainer } from '../../../apps/cli/src/trainer-setup.js';

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'cityscapes-like' },
    size: { type: 'string' },
    height: { type: 'string', default: '32' },
    width: { type: 'string', default: '64' },
    'person-scale': { type: 'string', default: '1' },
    'train-images': { type: 'string', default: '2000' },
    'test-images': { type: 'string', default: '100' },
    steps: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '8' },
    lr: { type: 'string' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'native' },
    'sample-counts': { type: 'string', default: '16' },
    noise: { type: 'string' },
    'latent-dim': { type: 'string' },
    beta: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!values.out) throw new Error('--out DIR is required');
const num = (name: keyof typeof values) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got ${String(values[name])}`);
  return v;
};
let [height, width] = [num('height'), num('width')];
const [steps, batch, seed, personScale] = [num('steps'), num('batch'), num('seed'), num('person-scale')];
// RATE,RATE@STEP,…: the first rate from step 0.
const lrText = values.lr ?? `1e-3,2.5e-4@${Math.floor(steps * 0.8)}`;
const parts = lrText.split(',').map((p, i) => (i === 0 ? { rate: Number(p), at: 0 } : { rate: Number(p.split('@')[0]), at: Number(p.split('@')[1]) }));
const schedule = { boundaries: parts.slice(1).map((p) => p.at), values: parts.map((p) => p.rate) };

const sampleCounts = String(values['sample-counts']).split(',').map(Number);
if (!sampleCounts.includes(16) || sampleCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sample-counts must be positive integers including 16, got ${values['sample-counts']}`);
const started = new Date().toISOString();
const report = await initBackend(values.backend as BackendName);
const task = values.task === 'lidc-like' ? 'lidc-like' : values.task === 'cityscapes-like' ? 'cityscapes-like' : undefined;
if (!task) throw new Error(`--task must be cityscapes-like or lidc-like, got ${values.task}`);
const lidc = task === 'lidc-like';
if (lidc) height = width = values.size ? num('size') : 32;
const plan = studyPlan(task, 'full', seed, { steps, batch, trainImages: num('train-images'), testImages: num('test-images') });
const make = (count: number, dataSeed: number) =>
  lidc
    ? createSyntheticLidc({ count, size: height, graders: plan.data.graders, seed: dataSeed, ...(values.noise !== undefined ? { noise: num('noise') } : {}) })
    : createSyntheticCityscapes({ count, height, width, graders: plan.data.graders, seed: dataSeed, personScale });
// Diagnostics off the paper's settings (latentDim 6, β = 1): one at a time, recorded in settings.
if (values['latent-dim'] !== undefined) plan.probUNet.latentDim = num('latent-dim');
if (values.beta !== undefined) plan.probUNet.beta = num('beta');
const train = make(plan.data.trainImages, plan.data.trainSeed);
const test = make(plan.data.testImages, plan.data.testSeed);
const config = modelConfigOf(plan, 'prob-unet', { channels: train.spec.channels, numClasses: train.spec.numClasses, ignoreLabel: train.spec.ignoreLabel });
const model = createModel(config as unknown as ModelConfig) as ProbUNet;
const run = await createTrainer(model, { schedule, seed, workers: 0, backend: report.selected });
const log: Array<{ step: number; loss: number; terms: Record<string, number> }> = [];
const t0 = performance.now();
try {
  await fit(run.trainer, tensorBatches(prefetch(batches(train, { batchSize: batch, shuffleSeed: seed, epochs: Infinity, dropRemainder: true }), 2)), {
    steps,
    onStep: (m) => {
      if (m.step % Math.max(1, Math.round(steps / 10)) !== 0 && m.step !== steps) return;
      log.push({ step: m.step, loss: m.loss, terms: m.terms });
      process.stderr.write(`step ${m.step}/${steps}  loss ${m.loss.toFixed(2)}  ${Object.entries(m.terms).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('  ')}  ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    },
  });
} finally {
  await run.close();
}
const trainSeconds = (performance.now() - t0) / 1000;
const evaluation = await evaluateSampler(model, test, { sampleCounts, seed: plan.evaluation.seed, split: 'test' });
// Does z carry each flip? Reconstruct every test annotation from its posterior mean and compare, per
// class present, whether the annotation and its reconstruction flip it: a class the posterior
// encodes is reproduced both ways; one the decoder decides without z follows the majority.
const flipSpecs = evaluation.card.protocol.conventions.flips ?? [];
const agree = flipSpecs.map(() => ({ flipped: 0, flippedReproduced: 0, kept: 0, keptReproduced: 0 }));
for (let i = 0; i < (lidc ? 0 : test.length); i++) {
  const ex = await test.get(i);
  const unflipped = { data: ex.meta.unflipped as Uint8Array, height: ex.height, width: ex.width };
  for (const annotation of ex.annotations) {
    const rec = tf.tidy(() => {
      const images = tf.tensor4d(ex.image, [1, ex.height, ex.width, ex.channels]);
      const labels = tf.tensor3d(Int32Array.from(annotation), [1, ex.height, ex.width], 'int32');
      return model.reconstruct(images, labels);
    });
    const recData = await rec.data();
    rec.dispose();
    const key = (data: ArrayLike<number>) => recordImageFlips([{ data, height: ex.height, width: ex.width }], unflipped, flipSpecs, { ignoreLabel: 255 }).modes[0]!.key;
    const [want, got] = [key(annotation), key(recData)];
    flipSpecs.forEach((_, k) => {
      if (want[k] === '1') {
        agree[k]!.flipped++;
        if (got[k] === '1') agree[k]!.flippedReproduced++;
      } else if (want[k] === '0') {
        agree[k]!.kept++;
        if (got[k] === '0') agree[k]!.keptReproduced++;
      }
    });
  }
}
// lidc-like: what the samples nearest each mode look like. A "fragment" is a non-empty sample
// smaller than half the image's small-mode lesion: nearest-mode assignment (1 − IoU, empty pair
// one) files it under a lesion mode even though it is the empty mode done imperfectly. Also: GED
// (16 samples, d = 1 − IoU, V-statistic sample term) as sampled and with fragments emptied, and
// whether the posterior mean reconstructs each test annotation's mode.
const lidcDiagnostic = lidc ? await diagnoseLidc() : undefined;
async function diagnoseLidc() {
  const modeNames = ((await test.get(0)).distribution ?? []).map((m) => m.name);
  const iou1 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let inter = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] === 1, y = b[i] === 1;
      if (x) na++;
      if (y) nb++;
      if (x && y) inter++;
    }
    return na + nb === 0 ? 1 : inter / (na + nb - inter);
  };
  const area = (a: ArrayLike<number>) => { let n = 0; for (let i = 0; i < a.length; i++) if (a[i] === 1) n++; return n; };
  const nearest = (s: ArrayLike<number>, modes: Array<{ labels: ArrayLike<number> }>) => {
    let best = 0, bestD = Infinity;
    modes.forEach((m, k) => { const d = 1 - iou1(s, m.labels); if (d < bestD) { bestD = d; best = k; } });
    return best;
  };
  const ged = (samples: Array<ArrayLike<number>>, modes: Array<{ probability: number; labels: ArrayLike<number> }>) => {
    let cross = 0, self = 0, truth = 0;
    for (const s of samples) for (const m of modes) cross += m.probability * (1 - iou1(s, m.labels));
    for (const a of samples) for (const b of samples) self += 1 - iou1(a, b);
    for (const a of modes) for (const b of modes) truth += a.probability * b.probability * (1 - iou1(a.labels, b.labels));
    return (2 * cross) / samples.length - self / samples.length ** 2 - truth;
  };
  const byMode = modeNames.map((name) => ({ name, samples: 0, fragments: 0, areaRatioSum: 0, iouSum: 0, recIoUSum: 0, recCount: 0 }));
  let total = 0, fragments = 0, gedRaw = 0, gedClean = 0, recAgree = 0, recTotal = 0;
  const recConfusion = modeNames.map(() => modeNames.map(() => 0));
  for (let i = 0; i < test.length; i++) {
    const ex = await test.get(i);
    const modes = ex.distribution!;
    const smallArea = Math.min(...modes.map((m) => area(m.labels)).filter((a) => a > 0));
    const drawn = tf.tidy(() => model.sample(tf.tensor4d(ex.image, [1, ex.height, ex.width, ex.channels]), 16));
    const data = await drawn.data();
    drawn.dispose();
    const px = ex.height * ex.width;
    const samples = Array.from({ length: 16 }, (_, k) => data.subarray(k * px, (k + 1) * px));
    const cleaned = samples.map((s) => (area(s) > 0 && area(s) < 0.5 * smallArea ? new Int32Array(px) : s));
    for (const s of samples) {
      const k = nearest(s, modes);
      const a = area(s);
      const fragment = a > 0 && a < 0.5 * smallArea;
      byMode[k]!.samples++;
      byMode[k]!.areaRatioSum += a / Math.max(1, area(modes[k]!.labels));
      byMode[k]!.iouSum += iou1(s, modes[k]!.labels);
      if (fragment) { byMode[k]!.fragments++; fragments++; }
      total++;
    }
    gedRaw += ged(samples, modes) / test.length;
    gedClean += ged(cleaned, modes) / test.length;
    for (const annotation of ex.annotations) {
      const rec = tf.tidy(() => model.reconstruct(tf.tensor4d(ex.image, [1, ex.height, ex.width, ex.channels]), tf.tensor3d(Int32Array.from(annotation), [1, ex.height, ex.width], 'int32')));
      const recData = await rec.data();
      rec.dispose();
      const want = nearest(annotation, modes), got = nearest(recData, modes);
      recConfusion[want]![got]!++;
      byMode[want]!.recIoUSum += iou1(recData, annotation);
      byMode[want]!.recCount++;
      recTotal++;
      if (want === got) recAgree++;
    }
  }
  return {
    fragmentShare: fragments / total,
    byMode: byMode.map((m) => ({ name: m.name, share: m.samples / total, fragmentsOfMode: m.samples ? m.fragments / m.samples : 0, meanAreaRatio: m.samples ? m.areaRatioSum / m.samples : 0, meanIoUWithMode: m.samples ? m.iouSum / m.samples : 0, posteriorMeanIoU: m.recCount ? m.recIoUSum / m.recCount : 0 })),
    sharesWithFragmentsEmptied: byMode.map((m, k) => ({ name: m.name, share: (m.samples - m.fragments + (m.name === 'empty' ? fragments : 0)) / total })),
    gedRaw,
    gedFragmentsEmptied: gedClean,
    posteriorModeReproduced: recAgree / recTotal,
    /** rows: the annotation's mode; columns: its posterior-mean reconstruction's nearest mode. */
    posteriorConfusion: { modes: modeNames, counts: recConfusion },
  };
}
model.dispose();
const cal = evaluation.flipCalibration;
const at16 = evaluation.bySampleCount.find((b) => b.samples === 16)!;
const result = {
  command: `npx tsx docs/results/experiments/calibration-experiment.mts ${process.argv.slice(2).join(' ')}`,
  started,
  backend: report.selected,
  task,
  settings: { height, width, personScale: lidc ? undefined : personScale, trainImages: plan.data.trainImages, testImages: plan.data.testImages, steps, batch, learningRate: schedule, seed, backbone: plan.backbone, probUNet: plan.probUNet },
  trainSeconds,
  log,
  gedTruth16: at16.metrics.gedDistribution?.mean,
  oracle16: at16.metrics.oracleGedDistribution?.mean,
  calibrationSamples: Math.max(...sampleCounts),
  diversity16: at16.metrics.sampleDiversity?.mean,
  trueDiversity16: at16.metrics.trueDiversity?.mean,
  /** lidc-like: each mode's share of the samples (nearest mode) against its probability. */
  modeShares: evaluation.modeShares ?? undefined,
  lidcDiagnostic,
  flips: cal?.flips.map((f) => ({ name: f.name, fraction: f.fraction, trueProbability: f.trueProbability, images: f.images })),
  /** Per class: of the test annotations that flip it, the share whose posterior-mean reconstruction flips it too; and of those that keep it, the share reconstructed unflipped. */
  posteriorReconstruction: lidc ? undefined : flipSpecs.map((f, k) => ({ name: f.name, flippedReproduced: agree[k]!.flippedReproduced / agree[k]!.flipped, keptReproduced: agree[k]!.keptReproduced / agree[k]!.kept, annotations: agree[k]!.flipped + agree[k]!.kept })),
  totalVariation: cal?.totalVariation,
  fullModes: cal && { images: cal.fullModes.images, pearsonR: cal.fullModes.pearsonR, totalVariation: cal.fullModes.totalVariation, totalVariationFloor: cal.fullModes.totalVariationFloor },
};
await mkdir(values.out, { recursive: true });
const atomic = async (name: string, bytes: string | Uint8Array) => {
  await writeFile(join(values.out!, `${name}.tmp`), bytes);
  await rename(join(values.out!, `${name}.tmp`), join(values.out!, name));
};
await atomic('result.json', `${JSON.stringify(result, null, 2)}\n`);
const panels = [{ title: lidc ? `prob-unet, lidc-like ${height}×${width}, ${steps} steps` : `prob-unet, ${height}×${width}, persons ×${personScale}, ${steps} steps`, evaluation }];
const modes = await modeFrequencyFigure(panels);
if (modes) await atomic('mode-frequencies.png', modes.png);
const bars = await calibrationFigure(panels);
if (bars) await atomic('calibration.png', bars.png);
process.stdout.write(
  `${JSON.stringify(
    lidc
      ? { gedTruth16: result.gedTruth16, oracle16: result.oracle16, modes: result.modeShares?.map((m) => `${m.mode} ${m.sampleShare.toFixed(3)}/${m.trueProbability.toFixed(3)}`), diversity: result.diversity16, trueDiversity: result.trueDiversity16, trainSeconds, lidcDiagnostic }
      : { flips: result.flips!.map((f) => `${f.name} ${f.fraction.toFixed(3)}/${f.trueProbability.toFixed(3)}`), posterior: result.posteriorReconstruction!.map((p) => `${p.name} ${p.flippedReproduced.toFixed(2)}/${p.keptReproduced.toFixed(2)}`), r: result.fullModes!.pearsonR, tableTV: result.fullModes!.totalVariation, meanTV: cal!.totalVariation.mean, floor: cal!.totalVariation.floor, gedTruth16: result.gedTruth16, trainSeconds },
  )}\n`,
);
