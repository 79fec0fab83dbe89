import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { formatBackendReport, initBackend, type BackendPreference } from '@probunet/backends';
import { createModel } from '@probunet/baselines';
import { ConfigError, Trainer, createProbUNet, fit, type FitResult } from '@probunet/core';
import { saveCheckpoint, writeFileAtomic } from '@probunet/core/node';
import { batches, createSyntheticLidc, prefetch, tensorBatches, type Example } from '@probunet/datasets';
import { evaluateSampler } from '@probunet/evaluation';
import { sampleGridFigure, writeFigure } from '../figures/evaluation-figures.js';
import { trainingCurveFigure } from '../figures/training-curve.js';
import { Progress, formatSeconds } from '../progress.js';
import { createOutputFolder } from '../output-folder.js';
import { createTrainer } from '../trainer-setup.js';

export const DEMO_HELP = `probunet demo — train a Probabilistic U-Net on the embedded synthetic LIDC-like data, then
sample it and score the samples against the data's exact distribution; a deterministic U-Net trained
the same way is scored beside it (the paper's point: one answer cannot match a distribution).

Options:
  --out DIR          where the checkpoint, report.json and figures go (default ./probunet-demo). The run
                     writes to DIR.incomplete-<hex> beside it and replaces DIR only when it completes;
                     DIR may hold an earlier run (replaced then) but no other files
  --size N           image side, 32..256, a multiple of 4 (default 32)
  --steps N          training steps (default 1000; --quick: 300)
  --quick            a short run (300 steps, 16 test images): about a minute on 2 cores
  --no-baseline      skip the deterministic U-Net
  --batch N          batch size (default 8)
  --samples N        samples per test image (default 16)
  --train-images N   synthetic training images (default 512)
  --test-images N    synthetic test images (default 32; --quick: 16)
  --backend NAME     auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --seed N           seed of data, initialisation and sampling (default 0)
  --workers N        data-parallel worker threads (default: one per core on the wasm and wasm-native
                     backends, else 0; 0 trains in this thread)
  -h, --help         this help

Ctrl-C during training stops after the current step and saves a resumable checkpoint in the new
run's folder (exit code 130); an earlier run in DIR is left as it was.
`;

/** What a demo run writes into its folder. */
const RUN_FILES = ['model.ckpt', 'report.json', 'samples.png', 'training-curve.svg', 'training-curve.png'];

export async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'probunet-demo' },
      steps: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-baseline': { type: 'boolean', default: false },
      size: { type: 'string', default: '32' },
      batch: { type: 'string', default: '8' },
      samples: { type: 'string', default: '16' },
      'train-images': { type: 'string', default: '512' },
      'test-images': { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      seed: { type: 'string', default: '0' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  values.steps ??= values.quick ? '300' : '1000';
  values['test-images'] ??= values.quick ? '16' : '32';
  const int = (name: keyof typeof values, min: number): number => {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return v;
  };
  const steps = int('steps', 1);
  const size = int('size', 32);
  const batchSize = int('batch', 1);
  const n = int('samples', 1);
  const seed = int('seed', 0);
  const out = resolve(values.out!);

  const report = await initBackend(values.backend as BackendPreference);
  process.stderr.write(`${formatBackendReport(report)}\n`);

  const train = createSyntheticLidc({ count: int('train-images', 1), size, graders: 4, seed });
  const test = createSyntheticLidc({ count: int('test-images', 1), size, graders: 4, seed: seed + 1_000_003 });
  const modelConfig = { inputChannels: 1, numClasses: 2, channels: [16, 32, 64], convsPerBlock: 2, latentDim: 6, num1x1Convs: 3, beta: 1, seed };
  const model = createProbUNet(modelConfig);
  if (size % model.downsamplingFactor !== 0) {
    model.dispose();
    const f = model.downsamplingFactor;
    throw new ConfigError(`--size ${size} is not a multiple of ${f}, the model's down-sampling factor (its U-Net halves the image ${Math.log2(f)} times): use ${Math.floor(size / f) * f} or ${Math.ceil(size / f) * f}`);
  }
  // Checked before any training: a bad --out fails now, not at the first checkpoint.
  const run = await createOutputFolder(out, { option: '--out', replace: 'own-run', ownFiles: RUN_FILES }).catch((err: unknown) => {
    model.dispose();
    throw err;
  });
  const trainerOptions = { learningRate: { boundaries: [Math.floor(steps * 0.8)], values: [1e-3, 2.5e-4] }, seed };
  // wasm is single-threaded in Node: one worker thread per core is the fast CPU path, with or
  // without the native kernels (which then run one thread per worker; docs/benchmarks.md).
  const perCore = report.selected === 'wasm' || report.selected === 'wasm-native';
  const workers = values.workers !== undefined ? int('workers', 0) : perCore && availableParallelism() > 1 ? availableParallelism() : 0;
  const training = await createTrainer(model, { schedule: trainerOptions.learningRate, seed, workers, backend: report.selected });
  const { trainer } = training;
  process.stderr.write(workers > 0 ? `training: ${workers} data-parallel worker threads (${report.selected})\n` : `training: in this thread (${report.selected})\n`);
  const counts = model.parameterCounts();
  process.stderr.write(`model: ${counts.total.toLocaleString('en')} parameters (U-Net ${counts.unet.toLocaleString('en')}, prior ${counts.prior.toLocaleString('en')}, posterior ${counts.posterior.toLocaleString('en')}, fusion ${counts.fusion.toLocaleString('en')})\n`);
  process.stderr.write(`data: synthetic LIDC-like, ${size}×${size}, 4 graders per image, ${train.length} train / ${test.length} test images\n`);

  const dir = run.work;
  const ckpt = join(dir, 'model.ckpt');
  const history: Array<{ step: number; loss: number; reconstruction: number; kl: number }> = [];
  const progress = new Progress(steps, 'train');
  const t0 = performance.now();
  const stream = tensorBatches(prefetch(batches(train, { batchSize, shuffleSeed: seed, epochs: Infinity, dropRemainder: true }), 2));
  const meta = () => ({ command: 'probunet demo', data: train.name, modelConfig });
  // Ctrl-C: finish the step under way, save a checkpoint into this run's folder, stop. A second
  // Ctrl-C quits at once (the folder then holds the last periodic checkpoint, if any).
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    process.stderr.write('\nCtrl-C: stopping after this step and saving a checkpoint (Ctrl-C again quits at once)\n');
  };
  process.on('SIGINT', onSigint);
  const STOPPED = { aborted: 'interrupted', 'non-finite': 'non-finite loss' } as const;
  let fitted: FitResult;
  try {
    fitted = await fit(trainer, stream, {
      steps,
      signal: stop.signal,
      saveEvery: 250,
      onStep: (m) => {
        history.push({ step: m.step, loss: m.loss, reconstruction: m.terms.reconstruction!, kl: m.terms.kl! });
        if (m.step % 50 === 0 || m.step === steps) {
          const ms = (performance.now() - t0) / m.step;
          progress.update(m.step, `loss ${m.loss.toFixed(1)}  rec ${m.terms.reconstruction!.toFixed(1)}  kl ${m.terms.kl!.toFixed(2)}  ${ms.toFixed(0)} ms/step`);
        }
      },
      checkpoint: async (reason) => {
        const why = reason === 'aborted' || reason === 'non-finite' ? { stopped: STOPPED[reason] } : {};
        if (trainer.step > 0) await saveCheckpoint(ckpt, model, trainer, { ...meta(), step: trainer.step, ...why });
      },
    });
  } catch (err) {
    await training.close();
    await run.discardIfEmpty();
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  await training.close();
  const last = fitted.last;
  if (fitted.stopped === 'aborted' || fitted.stopped === 'non-finite') {
    // After a non-finite step the trainer applied no update: the checkpoint is the last good state.
    if (fitted.error) process.stderr.write(`training stopped: ${fitted.error.message}\n`);
    const where = trainer.step > 0 ? await run.keepPartial() : (await run.discardIfEmpty(), undefined);
    model.dispose();
    const earlier = run.replaces ? `; the earlier run in ${out} is untouched` : '';
    process.stderr.write(where ? `stopped at step ${trainer.step}: checkpoint ${join(where, 'model.ckpt')}${earlier}\n` : `stopped before the first step; nothing saved${earlier}\n`);
    return fitted.stopped === 'aborted' ? 130 : 1;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`trained ${steps} steps in ${formatSeconds(trainSeconds)}; checkpoint ${join(out, 'model.ckpt')} once the run completes\n`);

  process.stderr.write(`evaluating: ${n} samples for each of ${test.length} test images…\n`);
  const kept: Array<{ example: Example; samples: Uint8Array[] }> = [];
  const evaluation = await evaluateSampler(model, test, {
    sampleCounts: [n],
    seed: seed + 17,
    split: 'test',
    onSamples: (example, samples) => {
      if (kept.length < 6) kept.push({ example, samples });
    },
  });
  const at = evaluation.bySampleCount[0]!.metrics;

  // The deterministic U-Net, trained on the same data with the same steps and schedule, scored the
  // same way: its n samples are n copies of one answer.
  let baseline: { model: string; steps: number; seconds: number; gedVsDistribution: number; gedVsGraders: number; hungarianMatchedIoU: number; sampleDiversity: number } | null = null;
  if (!values['no-baseline']) {
    const det = createModel({ type: 'deterministic-unet', inputChannels: 1, numClasses: 2, channels: modelConfig.channels, convsPerBlock: modelConfig.convsPerBlock, seed });
    const detTrainer = new Trainer(det, trainerOptions);
    const detProgress = new Progress(steps, 'baseline');
    const tb = performance.now();
    try {
      const detStream = tensorBatches(prefetch(batches(train, { batchSize, shuffleSeed: seed, epochs: Infinity, dropRemainder: true }), 2));
      await fit(detTrainer, detStream, {
        steps,
        onStep: (m) => {
          if (m.step % 50 === 0 || m.step === steps) detProgress.update(m.step, `deterministic U-Net  loss ${m.loss.toFixed(1)}`);
        },
      });
      const d = (await evaluateSampler(det, test, { sampleCounts: [n], seed: seed + 17, split: 'test' })).bySampleCount[0]!.metrics;
      baseline = {
        model: 'deterministic-unet',
        steps,
        seconds: (performance.now() - tb) / 1000,
        gedVsDistribution: d.gedDistribution!.mean,
        gedVsGraders: d.gedGraders!.mean,
        hungarianMatchedIoU: d.matchedIoUGraders!.mean,
        sampleDiversity: d.sampleDiversity!.mean,
      };
    } finally {
      detTrainer.dispose();
      det.dispose();
    }
  }
  const result = {
    command: 'probunet demo',
    date: new Date().toISOString(),
    backend: { selected: report.selected, tfBackend: report.tfBackend, threads: report.threads },
    data: { source: 'synthetic-lidc', size, graders: 4, train: train.length, test: test.length, seed },
    model: { config: modelConfig, parameters: counts },
    training: { steps, batchSize, workers, seconds: trainSeconds, msPerStep: (1000 * trainSeconds) / steps, final: last },
    evaluation: {
      samplesPerImage: n,
      gedVsDistribution: at.gedDistribution!,
      oracleGedVsDistribution: at.oracleGedDistribution!,
      gedVsGraders: at.gedGraders!,
      hungarianMatchedIoU: at.matchedIoUGraders!,
      sampleDiversity: at.sampleDiversity!,
      ncc: at.ncc!,
      ece: at.ece!,
      modeShares: evaluation.modeShares!.map((m) => ({ mode: m.mode, sampleShare: m.sampleShare, trueProbability: m.trueProbability })),
      card: evaluation.card,
    },
    baseline,
    files: { checkpoint: 'model.ckpt', samples: 'samples.png', curve: ['training-curve.svg', 'training-curve.png'] },
    history,
  };
  await writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
  const grid = await sampleGridFigure(
    kept.map(({ example, samples }) => ({ label: example.id, image: example, graders: example.annotations, samples: samples.slice(0, 8) })),
    { numClasses: 2, title: `Prob. U-Net after ${steps} steps: test images, the 4 graders and ${Math.min(8, n)} samples` },
  );
  await writeFigure(dir, 'samples', grid);
  const curve = await trainingCurveFigure(
    [
      { name: 'reconstruction', points: history.map((h) => [h.step, h.reconstruction]) },
      { name: 'KL', points: history.map((h) => [h.step, h.kl]) },
    ],
    { title: 'Training: −ELBO terms (log scale)', yTitle: 'loss term', logY: true },
  );
  await writeFigure(dir, 'training-curve', curve);
  model.dispose();
  await run.commit();

  const e = result.evaluation;
  const f = (v: number) => v.toFixed(3);
  process.stdout.write(
    [
      '',
      `probunet demo — ${test.length} test images, ${n} samples each (${report.selected} backend)`,
      `  GED vs true distribution   ${f(e.gedVsDistribution.mean)}   (oracle floor with ${n} true samples: ${f(e.oracleGedVsDistribution.mean)})`,
      `  GED vs the 4 graders       ${f(e.gedVsGraders.mean)}`,
      `  Hungarian-matched IoU      ${f(e.hungarianMatchedIoU.mean)}`,
      `  sample diversity           ${f(e.sampleDiversity.mean)}`,
      `  mode shares (samples / true): ${e.modeShares.map((m) => `${m.mode} ${f(m.sampleShare)}/${f(m.trueProbability)}`).join(', ')}`,
      ...(baseline
        ? [`  deterministic U-Net (same data, steps and scoring): GED vs true distribution ${f(baseline.gedVsDistribution)}, vs the graders ${f(baseline.gedVsGraders)}, matched IoU ${f(baseline.hungarianMatchedIoU)}`]
        : []),
      `  files: ${join(out, 'report.json')}, samples.png, training-curve.svg/.png, model.ckpt`,
      '',
    ].join('\n'),
  );
  return 0;
}
