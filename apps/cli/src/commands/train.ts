import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, type BackendPreference } from '@probunet/backends';
import { NonFiniteLossError, ProbUNet, Trainer, type CheckpointableModel, type StepMetrics } from '@probunet/core';
import { saveCheckpoint, writeFileAtomic } from '@probunet/core/node';
import { prefetch, toTensors } from '@probunet/datasets';
import { EXIT_INTERRUPTED, UsageError, defineCommand } from '../cli-errors.js';
import { DATA_OPTIONS, DATA_SOURCES, dataSourceOptions, openDataSource, type DataSourceOptions } from '../dataset-source.js';
import { buildModel, readModelSpec } from '../model-spec.js';
import { loadModelCheckpoint } from '../model-inputs.js';
import { integerOption, positiveNumberOption, requiredOption } from '../option-values.js';
import { Progress } from '../progress.js';
import { createRunFolder, existingRunFolder, readRunJson, writeJsonAtomic, type RunFolder } from '../output-folder.js';
import { CollapseDetector, klPerDimension, nonFiniteTerms } from '../training-monitor.js';
import { trainingBatches } from '../training-stream.js';

export const TRAIN_HELP = `probunet train — train any of the six models on any dataset source, with resumable checkpoints.

Usage: probunet train --model model.json|PRESET --data SOURCE [--root PATH] --out RUN_DIR [options]
       probunet train --resume RUN_DIR [--steps N]

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
  --resume RUN_DIR   continue that run from its checkpoint, in place, with its own settings
  --steps N          train until this many steps in all (default 1000)
  --batch N          batch size (default 8)
  --lr X             constant Adam learning rate (default 1e-4, the paper's first rate)
  --backend NAME     auto | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --seed N           seeds the initialisation (when the config has no seed), data order, augmentation,
                     grader choice and posterior noise (default 0)
  --augment          random mirror, ±10° rotation and 0.9–1.1 zoom of every training example
  --save-every N     checkpoint every N steps (default 250; the final one is always written)
  --log-every N      progress line and train.jsonl record every N steps (default 10)
  --force            replace an existing --out folder
  --verbose          print stack traces of errors

RUN_DIR gets model.ckpt (resumable: weights, Adam moments, step, random state), train.jsonl (one
JSON record per logged step: step, loss, terms, weightDecay, gradNorm, updateNorm, learningRate,
stepsPerSecond and, for the Prob. U-Net, klPerDim) and run.json (the settings and status).
SIGINT or SIGTERM saves a checkpoint and exits 130; a non-finite loss stops with exit 1, keeping the
last good state in model.ckpt.

Example:
  probunet train --model synthetic --data synthetic-lidc --size 32 --steps 500 --out runs/s32
  probunet train --resume runs/s32 --steps 1000
`;

/** run.json: everything `--resume` needs to reopen the same run. */
export interface RunRecord {
  format: 'probunet-run';
  version: 1;
  model: Record<string, unknown>;
  data: DataSourceOptions;
  training: { steps: number; batch: number; lr: number; seed: number; augment: boolean; saveEvery: number; logEvery: number; backend: string };
  status: 'running' | 'finished' | 'interrupted' | 'non-finite';
  step: number;
  updatedAt: string;
}

/** One line of train.jsonl: the Trainer's step metrics, the pace, and the latent's KL per dimension. */
export interface TrainLogRecord extends StepMetrics {
  stepsPerSecond: number;
  /** Prob. U-Net only: KL per latent dimension (see klPerDimension). */
  klPerDim?: number[];
}

const OPTIONS = {
  model: { type: 'string' },
  ...DATA_OPTIONS,
  out: { type: 'string' },
  resume: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
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
  let folder: RunFolder;
  if (values.resume !== undefined) {
    const fixed = (['model', 'data', 'root', 'split', 'limit', 'size', 'count', 'out', 'batch', 'lr', 'seed', 'augment'] as const).filter((k) => values[k] !== undefined);
    if (fixed.length > 0) throw new UsageError(`--resume continues a run with its own settings: drop ${fixed.map((k) => `--${k}`).join(', ')}`);
    folder = existingRunFolder(values.resume);
    record = await readRunJson<RunRecord>(join(folder.dir, 'run.json'), `--resume ${values.resume}`);
    record.training.steps = steps ?? record.training.steps;
    record.training.saveEvery = integerOption('save-every', values['save-every'], 1) ?? record.training.saveEvery;
    record.training.logEvery = integerOption('log-every', values['log-every'], 1) ?? record.training.logEvery;
    record.training.backend = values.backend ?? record.training.backend;
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
        lr: positiveNumberOption('lr', values.lr) ?? 1e-4,
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
    folder = await createRunFolder(out, { force: values.force, option: '--out', resumeHint: true });
  }
  try {
    return await runTraining(record, folder, values.resume !== undefined);
  } catch (err) {
    await folder.discard();
    throw err;
  }
});

async function runTraining(record: RunRecord, folder: RunFolder, resuming: boolean): Promise<number> {
  const t = record.training;
  const dataset = await openDataSource(record.data);
  const report = await initBackend(t.backend as BackendPreference);
  process.stderr.write(`${formatBackendReport(report)}\n`);
  let model: CheckpointableModel;
  let trainer: Trainer<CheckpointableModel>;
  if (resuming) {
    const restored = await loadModelCheckpoint(join(folder.dir, 'model.ckpt'));
    if (!restored.trainer) throw new UsageError(`${join(folder.dir, 'model.ckpt')} holds no training state to resume from`);
    model = restored.model;
    trainer = restored.trainer;
    await truncateLog(join(folder.dir, 'train.jsonl'), trainer.step);
  } else {
    model = buildModel(record.model, dataset.spec, '--model');
    trainer = new Trainer(model, { learningRate: t.lr, seed: t.seed });
  }
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
    `${resuming ? `resuming ${folder.dir} at step ${trainer.step}` : `training ${model.kind}`}: ${dataset.name} (${dataset.length} examples), batch ${t.batch}, ${t.steps} steps\n`,
  );

  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(EXIT_INTERRUPTED); // a second signal: stop now
    stopSignal = signal;
    process.stderr.write(`\n${signal}: saving a checkpoint after this step…\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const collapse = new CollapseDetector();
  const progress = new Progress(t.steps, 'train');
  const startStep = trainer.step;
  const t0 = performance.now();
  const stream = prefetch(trainingBatches(dataset, { batchSize: t.batch, seed: t.seed, augment: t.augment, startStep }), 2);
  try {
    for await (const examples of stream) {
      if (trainer.step >= t.steps || stopSignal) break;
      const { images, labels } = toTensors(examples);
      try {
        const m = await trainer.trainStep({ images, labels });
        const stepsPerSecond = (m.step - startStep) / ((performance.now() - t0) / 1000);
        if (m.terms.kl !== undefined) {
          const warning = collapse.observe(m.step, m.terms.kl);
          if (warning) process.stderr.write(`${warning}\n`);
        }
        if (m.step % t.logEvery === 0 || m.step === t.steps) {
          const line: TrainLogRecord = { ...m, stepsPerSecond };
          if (model instanceof ProbUNet) line.klPerDim = await klPerDimension(model, images, labels);
          await appendFile(logPath(), `${JSON.stringify(line)}\n`);
          const terms = Object.entries(m.terms).map(([k, v]) => `${k} ${v.toFixed(3)}`).join('  ');
          progress.update(m.step, `loss ${m.loss.toFixed(3)}  ${terms}  ${stepsPerSecond.toFixed(2)} step/s`);
        }
        if (m.step % t.saveEvery === 0 && m.step < t.steps) await save('running');
      } finally {
        tf.dispose([images, labels]);
      }
    }
  } catch (err) {
    if (!(err instanceof NonFiniteLossError)) throw err;
    // The trainer rolled the bad step back: the model is the last good state, safe to save.
    await save('non-finite');
    await folder.commit();
    const terms = nonFiniteTerms(err.message);
    process.stderr.write(
      `probunet train: stopped at step ${err.step}: the ${terms.length ? terms.join(' and ') : 'loss'} went non-finite. ` +
        `${join(folder.dir, 'model.ckpt')} holds the last good state (step ${trainer.step}).\n  ${err.message}\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const interrupted = stopSignal !== undefined && trainer.step < t.steps;
  await save(interrupted ? 'interrupted' : 'finished');
  await folder.commit();
  model.dispose();
  trainer.dispose();
  if (interrupted) {
    process.stderr.write(`interrupted at step ${trainer.step}; continue with: probunet train --resume ${folder.dir}\n`);
    return EXIT_INTERRUPTED;
  }
  process.stdout.write(`trained ${record.model.type ?? 'prob-unet'} to step ${trainer.step}; run folder ${folder.dir}\n`);
  return 0;
}

/** Drops log lines past the checkpoint's step (written after the last checkpoint of a killed run). */
async function truncateLog(path: string, step: number): Promise<void> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const kept = text.split('\n').filter((l) => l.trim() !== '' && (JSON.parse(l) as TrainLogRecord).step <= step);
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}
