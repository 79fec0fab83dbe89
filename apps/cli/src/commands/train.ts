import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, type BackendPreference } from '@probunet/backends';
import { fit, hasLatentSpace, type CheckpointableModel, type FitResult } from '@probunet/core';
import { saveCheckpoint, writeFileAtomic } from '@probunet/core/node';
import { batches, prefetch, tensorBatches, type AugmentOptions } from '@probunet/datasets';
import { EXIT_INTERRUPTED, UsageError, defineCommand } from '../cli-errors.js';
import { DATA_OPTIONS, DATA_SOURCES, dataSourceOptions, openDataSource, type DataSourceOptions } from '../dataset-source.js';
import { continueSchedule, formatLearningRate, parseLearningRate, sameLearningRate, scheduleOf, type LearningRate } from '../learning-rate.js';
import { truncateLog, writeTrainingCurve, type TrainLogRecord } from '../training-log.js';
import { buildModel, readModelSpec } from '../model-spec.js';
import { loadModelCheckpoint } from '../model-inputs.js';
import { integerOption, requiredOption } from '../option-values.js';
import { Progress } from '../progress.js';
import { createOutputFolder, readRunJson, resumeOutputFolder, writeJsonAtomic, type OutputFolder } from '../output-folder.js';
import { CollapseDetector, klPerDimension, nonFiniteTerms } from '../training-monitor.js';
import { createTrainer, type TrainerRun } from '../trainer-setup.js';

/** What `--augment` turns on: the authors' kind of geometric jitter, mild. */
export const CLI_AUGMENTATION: AugmentOptions = { mirror: true, rotationDegrees: 10, scale: [0.9, 1.1] };

export const TRAIN_HELP = `probunet train — train any of the six models on any dataset source, with resumable checkpoints.

Usage: probunet train --model model.json|PRESET --data SOURCE [--root PATH] --out RUN_DIR [options]
       probunet train --resume RUN_DIR [--steps N] [--lr RATE|SCHEDULE] [--workers N]

Options:
  --model SPEC       a JSON model config (what createModel from @probunet/baselines reads, any of
                     prob-unet, deterministic-unet, dropout-unet, unet-ensemble, m-heads,
                     image2image-vae), or a preset: lidc | cityscapes | synthetic
  --data SOURCE      ${DATA_SOURCES.join(' | ')}
  --root PATH        dataset folder (lidc, cityscapes) or .pickle file (lidc-pickle)
  --split NAME       train | val | test (default train)
  --limit N          use only the first N examples
  --size N           synthetic sources: image side (synthetic-cityscapes: height, width 2N; default 64)
  --count N          synthetic sources: number of images (default 1000)
  --out RUN_DIR      the run folder; refused if it exists, unless --force (then replaced at the end)
  --resume RUN_DIR   continue that run from its checkpoint, in place, with its own settings; only
                     --steps, --lr, --workers, --backend, --save-every and --log-every may change
  --steps N          train until this many steps in all (default 1000)
  --batch N          batch size (default 8)
  --lr RATE          Adam learning rate: a constant (default 1e-4, the paper's first rate) or a
                     piecewise schedule RATE,RATE@STEP,… in absolute steps (1e-4,5e-5@80000: 1e-4,
                     then 5e-5 from step 80000 on). On --resume a new rate applies from the
                     checkpoint's step on; run.json's lrChanges records where
  --workers N        data-parallel worker threads (any model type; default 0: train in this thread).
                     Each worker computes the gradient of a share of the batch on the selected backend
  --backend NAME     auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --seed N           seeds the initialisation (when the config has no seed), data order, augmentation,
                     grader choice and posterior noise (default 0)
  --augment          random mirror, ±10° rotation and 0.9–1.1 zoom of every training example
  --save-every N     checkpoint every N steps (default 250; the final one is always written)
  --log-every N      progress line and train.jsonl record every N steps (default 10)
  --force            replace an existing --out folder
  --verbose          print stack traces of errors

RUN_DIR gets model.ckpt (resumable: weights, Adam moments, step, random state, the learning-rate
schedule), train.jsonl (one JSON record per logged step: step, loss, terms, weightDecay, gradNorm,
updateNorm, learningRate, stepsPerSecond and, for the Prob. U-Net, klPerDim), run.json (the
settings and status) and training-curve.svg/.png (the loss and its terms against the step, with
the steps where --resume changed the learning rate marked).
SIGINT or SIGTERM saves a checkpoint and exits 130; a non-finite loss stops with exit 1, keeping the
last good state in model.ckpt.

Example:
  probunet train --model synthetic --data synthetic-lidc --size 32 --steps 500 --out runs/s32
  probunet train --resume runs/s32 --steps 1000 --lr 2e-5
  probunet train --model lidc --data lidc --root ~/data/lidc --workers 2 --backend wasm --out runs/lidc
`;

/** run.json: everything `--resume` needs to reopen the same run. */
export interface RunRecord {
  format: 'probunet-run';
  version: 1;
  model: Record<string, unknown>;
  data: DataSourceOptions;
  training: {
    steps: number;
    batch: number;
    /** The learning rate in force: what --lr gave last (the checkpoint holds the whole schedule). */
    lr: LearningRate;
    /** Where a --resume changed the rate: it applies to the updates after `afterStep` (logged as afterStep + 1 on). */
    lrChanges?: Array<{ afterStep: number; from: LearningRate; to: LearningRate }>;
    /** Data-parallel worker threads (0: this thread); absent in runs from before --workers. */
    workers?: number;
    seed: number;
    augment: boolean;
    saveEvery: number;
    logEvery: number;
    backend: string;
  };
  status: 'running' | 'finished' | 'interrupted' | 'non-finite';
  step: number;
  updatedAt: string;
}

const OPTIONS = {
  model: { type: 'string' },
  ...DATA_OPTIONS,
  out: { type: 'string' },
  resume: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  workers: { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  augment: { type: 'boolean' },
  'save-every': { type: 'string' },
  'log-every': { type: 'string' },
  force: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export const train = defineCommand('train', TRAIN_HELP, OPTIONS, async (values) => {
  const steps = integerOption('steps', values.steps, 1);
  let record: RunRecord;
  let folder: OutputFolder;
  let newRate: LearningRate | undefined;
  const lr = values.lr !== undefined ? parseLearningRate(values.lr) : undefined;
  const workers = integerOption('workers', values.workers, 0);
  if (values.resume !== undefined) {
    const fixed = (['model', 'data', 'root', 'split', 'limit', 'size', 'count', 'out', 'batch', 'seed', 'augment'] as const).filter((k) => values[k] !== undefined);
    if (fixed.length > 0) {
      throw new UsageError(
        `--resume continues a run with its own settings: drop ${fixed.map((k) => `--${k}`).join(', ')} (only --steps, --lr, --workers, --backend, --save-every and --log-every may change)`,
      );
    }
    folder = resumeOutputFolder(values.resume);
    record = await readRunJson<RunRecord>(join(folder.target, 'run.json'), `--resume ${values.resume}`);
    record.training.steps = steps ?? record.training.steps;
    record.training.saveEvery = integerOption('save-every', values['save-every'], 1) ?? record.training.saveEvery;
    record.training.logEvery = integerOption('log-every', values['log-every'], 1) ?? record.training.logEvery;
    record.training.backend = values.backend ?? record.training.backend;
    record.training.workers = workers ?? record.training.workers ?? 0;
    newRate = lr !== undefined && !sameLearningRate(lr, record.training.lr) ? lr : undefined;
  } else {
    const seed = integerOption('seed', values.seed, 0) ?? 0;
    const data: DataSourceOptions = dataSourceOptions(values, { split: 'train', size: 64, minSize: 32, count: 1000, seed });
    const model = await readModelSpec(requiredOption('model', values.model, 'model.json|PRESET'));
    // The init seed follows --seed unless the config sets one (the explicit component form has none).
    if (model.seed === undefined && model.encoder === undefined && model.format === undefined) model.seed = seed;
    const out = requiredOption('out', values.out, 'RUN_DIR');
    record = {
      format: 'probunet-run',
      version: 1,
      model,
      data,
      training: {
        steps: steps ?? 1000,
        batch: integerOption('batch', values.batch, 1) ?? 8,
        lr: lr ?? 1e-4,
        workers: workers ?? 0,
        seed,
        augment: values.augment ?? false,
        saveEvery: integerOption('save-every', values['save-every'], 1) ?? 250,
        logEvery: integerOption('log-every', values['log-every'], 1) ?? 10,
        backend: values.backend ?? 'auto',
      },
      status: 'running',
      step: 0,
      updatedAt: new Date().toISOString(),
    };
    folder = await createOutputFolder(out, { option: '--out', replace: values.force ? 'force' : 'refuse', resumeHint: true });
  }
  try {
    return await runTraining(record, folder, values.resume !== undefined, newRate);
  } catch (err) {
    await folder.discard();
    throw err;
  }
});

async function runTraining(record: RunRecord, folder: OutputFolder, resuming: boolean, newRate: LearningRate | undefined): Promise<number> {
  const t = record.training;
  const dataset = await openDataSource(record.data);
  if (dataset.length < t.batch) throw new UsageError(`--batch ${t.batch} is larger than the ${dataset.length} training examples`);
  const report = await initBackend(t.backend as BackendPreference);
  process.stderr.write(`${formatBackendReport(report)}\n`);
  const workers = t.workers ?? 0;
  const setup = { schedule: scheduleOf(t.lr), seed: t.seed, workers, backend: report.selected };
  let model: CheckpointableModel;
  let run: TrainerRun;
  if (resuming) {
    const path = join(folder.target, 'model.ckpt');
    const restored = await loadModelCheckpoint(path);
    model = restored.model;
    const saved = restored.trainerState;
    if (!saved) {
      model.dispose();
      throw new UsageError(`${path} holds no training state to resume from`);
    }
    setup.schedule = saved.state.schedule;
    if (newRate !== undefined) {
      const at = saved.state.step;
      setup.schedule = continueSchedule(setup.schedule, at, scheduleOf(newRate));
      (t.lrChanges ??= []).push({ afterStep: at, from: t.lr, to: newRate });
      process.stderr.write(`learning rate: ${formatLearningRate(t.lr)} → ${formatLearningRate(newRate)} from step ${at + 1} on (recorded in run.json)\n`);
      t.lr = newRate;
    }
    run = await createTrainer(model, setup, saved).catch((err: unknown) => {
      model.dispose();
      throw err;
    });
    await truncateLog(join(folder.target, 'train.jsonl'), run.trainer.step);
  } else {
    model = buildModel(record.model, dataset.spec, '--model');
    run = await createTrainer(model, setup).catch((err: unknown) => {
      model.dispose();
      throw err;
    });
  }
  const { trainer } = run;
  const ckpt = () => join(folder.work, 'model.ckpt');
  const logPath = () => join(folder.work, 'train.jsonl');
  const save = async (status: RunRecord['status']) => {
    record.status = status;
    record.step = trainer.step;
    record.updatedAt = new Date().toISOString();
    await saveCheckpoint(ckpt(), model, trainer, { command: 'probunet train', run: record });
    await writeJsonAtomic(join(folder.work, 'run.json'), record);
  };
  if (!resuming) await writeFileAtomic(logPath(), '');
  process.stderr.write(
    `${resuming ? `resuming ${folder.target} at step ${trainer.step}` : `training ${model.kind}`}: ${dataset.name} (${dataset.length} examples), batch ${t.batch}, ${t.steps} steps, ` +
      `${workers > 0 ? `${workers} data-parallel worker threads` : 'in this thread'} (${report.selected})\n`,
  );

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(EXIT_INTERRUPTED); // a second signal: stop now
    stop.abort();
    process.stderr.write(`\n${signal}: saving a checkpoint after this step…\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const collapse = new CollapseDetector();
  const progress = new Progress(t.steps, 'train');
  const startStep = trainer.step;
  const t0 = performance.now();
  const examples = batches(dataset, {
    batchSize: t.batch,
    shuffleSeed: t.seed,
    epochs: Infinity,
    dropRemainder: true,
    startStep,
    ...(t.augment ? { augment: { options: CLI_AUGMENTATION, seed: t.seed } } : {}),
  });
  const STATUS = { finished: 'finished', exhausted: 'finished', aborted: 'interrupted', 'non-finite': 'non-finite', periodic: 'running' } as const;
  let result: FitResult;
  try {
    result = await fit(trainer, tensorBatches(prefetch(examples, 2)), {
      steps: t.steps,
      signal: stop.signal,
      saveEvery: t.saveEvery,
      checkpoint: (reason) => save(STATUS[reason]),
      onStep: async (m, batch) => {
        const stepsPerSecond = (m.step - startStep) / ((performance.now() - t0) / 1000);
        if (m.terms.kl !== undefined) {
          const warning = collapse.observe(m.step, m.terms.kl);
          if (warning) process.stderr.write(`${warning}\n`);
        }
        if (m.step % t.logEvery === 0 || m.step === t.steps) {
          const line: TrainLogRecord = { ...m, stepsPerSecond };
          if (hasLatentSpace(model)) line.klPerDim = await klPerDimension(model, batch.images, batch.labels as tf.Tensor4D);
          await appendFile(logPath(), `${JSON.stringify(line)}\n`);
          const terms = Object.entries(m.terms).map(([k, v]) => `${k} ${v.toFixed(3)}`).join('  ');
          progress.update(m.step, `loss ${m.loss.toFixed(3)}  ${terms}  ${stepsPerSecond.toFixed(2)} step/s`);
        }
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await run.close();
  }
  await writeTrainingCurve(folder.work, { model: String(record.model.type ?? 'prob-unet'), lrChanges: record.training.lrChanges ?? [] });
  await folder.commit();
  model.dispose();
  if (result.error) {
    // The trainer rolled the bad step back: model.ckpt holds the last good state.
    const terms = nonFiniteTerms(result.error.message);
    process.stderr.write(
      `probunet train: stopped at step ${result.error.step}: the ${terms.length ? terms.join(' and ') : 'loss'} went non-finite. ` +
        `${join(folder.target, 'model.ckpt')} holds the last good state (step ${result.step}).\n  ${result.error.message}\n`,
    );
    return 1;
  }
  if (result.stopped === 'aborted') {
    process.stderr.write(`interrupted at step ${result.step}; continue with: probunet train --resume ${folder.target}\n`);
    return EXIT_INTERRUPTED;
  }
  process.stdout.write(`trained ${record.model.type ?? 'prob-unet'} to step ${result.step}; run folder ${folder.target}\n`);
  return 0;
}
