import { basename, join } from 'node:path';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { formatBackendReport, initBackend, type BackendName, type BackendPreference } from '@probunet/backends';
import { createModel } from '@probunet/baselines';
import { fit, hasLatentSpace, type CheckpointableModel, type FitResult, type ModelConfig } from '@probunet/core';
import { writeFileAtomic } from '@probunet/core/node';
import { batches, prefetch, tensorBatches } from '@probunet/datasets';
import { assessAnnotations, evaluateSampler, type Evaluation } from '@probunet/evaluation';
import { COMMON_OPTIONS, UsageError, defineCommand } from '../cli-errors.js';
import { CITYSCAPES_CLASSES, calibrationFigure, gedVersusSamplesFigure, modeFrequencyFigure, sampleGridFigure, writeFigure, type SampleGridRow } from '../figures/evaluation-figures.js';
import { choiceOption, integerOption, requiredOption } from '../option-values.js';
import { createOutputFolder } from '../output-folder.js';
import { Progress, formatSeconds } from '../progress.js';
import { createTrainer } from '../trainer-setup.js';
import { cliRegistry } from '../model-spec.js';
import { openStudyParts, type StudyParts } from './reproduce-parts.js';
import { BUDGETS, TASKS, modelConfigOf, openStudyData, studyPlan, type StudyModel, type StudyPlan } from './reproduce-plan.js';
import { orderingChecks, renderMarkdown, scoreAssessment, targets, type AssessmentResult, type ModelResult, type ReportHeader } from './reproduce-report.js';

export const REPRODUCE_HELP = `probunet reproduce — the paper's comparison on synthetic data whose true distribution is known.

Usage: probunet reproduce --task lidc-like|cityscapes-like [--budget quick|full] --out DIR [options]

Trains the Prob. U-Net, the five baselines (deterministic-unet, dropout-unet, unet-ensemble,
m-heads, image2image-vae) and two successors (ssn: Stochastic Segmentation Networks;
hierarchical-prob-unet) on the same synthetic data with the same U-Net, steps and schedule, scores
each with 1, 4, 8 and 16 samples per test image (@probunet/evaluation), and has the Prob. U-Net
assess test annotations among which one per image is deliberately implausible. DIR gets:
  results.md, results.json   the table: GED vs the graders and vs the exact distribution, sample
                             diversity, matched IoU, NCC, ECE per model and sample count, the oracle
                             floor, the annotation assessment, the checks; results.json also each
                             model's config, training record and protocol card
  ged-vs-samples.svg/.png    per-image GED and the means, one panel per model
  mode-frequencies.svg/.png  sampled mode frequencies against the true probabilities
  calibration.svg/.png       cityscapes-like: sampled flip fraction per class vs its probability
  samples-<model>.png        labelled sample grids: image, graders, samples
The exit code is 0 when every check passes (the Prob. U-Net's GED below the deterministic U-Net's;
the oracle floor below every model), 1 when one fails, 2 for a bad command line.

Options:
  --task NAME          lidc-like | cityscapes-like
  --budget NAME        quick (default: minutes on 2 cores, checks orderings) | full (lidc-like
                       about 1.5 h, cityscapes-like about 3 h on 2 cores; see
                       docs/reproduction.md; --resume continues an interrupted run)
  --out DIR            output folder (refused if it exists, unless --force; written atomically)
  --seed N             seed of data, initialisation, training and sampling (default 0)
  --backend NAME       auto | native | wasm-native | wasm | cpu | webgpu (default auto)
  --workers N          data-parallel worker threads for every model's training (default 0: in
                       this thread)
  --steps N            override the budget's training steps (every model)
  --batch N            override the batch size (default 8)
  --train-images N     override the number of training images
  --test-images N      override the number of test images
                       (the overrides are for smoke tests and custom studies; they are recorded)
  --resume             continue a stopped study: each finished model is kept in DIR.parts/ while
                       the study runs; --resume reuses them (same options required) and trains
                       only the rest
  --json               print results.json's summary (checks, table) as JSON on stdout
  --force, --verbose, --help

Example:
  probunet reproduce --task lidc-like --budget quick --out runs/reproduce-lidc
`;

const OPTIONS = {
  task: { type: 'string' },
  budget: { type: 'string' },
  out: { type: 'string' },
  seed: { type: 'string' },
  workers: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  'train-images': { type: 'string' },
  'test-images': { type: 'string' },
  resume: { type: 'boolean' },
  ...COMMON_OPTIONS,
} as const;

export const reproduce = defineCommand('reproduce', REPRODUCE_HELP, OPTIONS, async (values) => {
  const task = choiceOption('task', requiredOption('task', values.task, 'lidc-like|cityscapes-like'), TASKS)!;
  const budget = choiceOption('budget', values.budget, BUDGETS) ?? 'quick';
  const out = requiredOption('out', values.out, 'DIR');
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  const workers = integerOption('workers', values.workers, 0) ?? 0;
  const overrides = {
    steps: integerOption('steps', values.steps, 1),
    batch: integerOption('batch', values.batch, 1),
    trainImages: integerOption('train-images', values['train-images'], 1),
    testImages: integerOption('test-images', values['test-images'], 1),
  };
  const plan = studyPlan(task, budget, seed, overrides);
  if (plan.training.batch > plan.data.trainImages) throw new UsageError(`--batch ${plan.training.batch} exceeds the ${plan.data.trainImages} training images: lower --batch or raise --train-images`);
  const started = new Date();
  const t0 = performance.now();
  const report = await initBackend((values.backend ?? 'auto') as BackendPreference);
  process.stderr.write(`${formatBackendReport(report)}\n`);
  const folder = await createOutputFolder(out, { option: '--out', replace: values.force ? 'force' : 'refuse' });
  try {
    const parts = await openStudyParts<ModelPart>(out, plan, { resume: values.resume === true, force: values.force === true });
    if (parts.done.size > 0) process.stderr.write(`resuming: ${[...parts.done.keys()].join(', ')} finished earlier (${parts.dir})\n`);
    const study = await runStudy(plan, workers, report.selected, parts);
    const header: ReportHeader = {
      command: commandLine(values),
      task,
      budget,
      seed,
      backend: `${report.selected} (tfjs '${report.tfBackend}', ${report.threads ?? 1} thread${report.threads === 1 ? '' : 's'})${workers > 0 ? `; trained on ${workers} data-parallel workers` : ''}`,
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${process.platform}-${process.arch}`, node: process.versions.node },
      started: started.toISOString(),
      seconds: 0,
    };
    const earlier = [...parts.done.values()];
    if (earlier.length > 0) header.resumed = { models: [...parts.done.keys()], started: earlier.map((p) => p.started).sort()[0]! };
    const checks = orderingChecks(study.models, plan);
    const goals = targets(study.models, plan);
    const figures = await writeFigures(folder.work, plan, study.evaluations, study.grids);
    header.seconds = (performance.now() - t0) / 1000 + earlier.reduce((s, p) => s + p.seconds, 0);
    const result = { format: 'probunet-reproduction', version: 1, header, plan, checks, targets: goals, models: study.models, assessment: study.assessment, files: ['results.md', 'results.json', ...figures] };
    await writeFileAtomic(join(folder.work, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFileAtomic(join(folder.work, 'results.md'), renderMarkdown(header, plan, study.models, study.assessment, checks, goals, figures));
    await folder.commit();
    await parts.remove();
    const passed = checks.every((c) => c.pass);
    if (values.json) {
      const table = study.models.map((m) => ({ model: m.type, bySampleCount: m.evaluation.bySampleCount }));
      process.stdout.write(`${JSON.stringify({ out: folder.target, passed, checks, targets: goals, assessment: study.assessment, table, seconds: header.seconds }, null, 2)}\n`);
    } else {
      process.stdout.write(`${task} (${budget}) in ${formatSeconds(header.seconds)} → ${folder.target}/results.md\n`);
      for (const c of checks) process.stdout.write(`  ${c.pass ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
    }
    return passed ? 0 : 1;
  } catch (err) {
    await folder.discard();
    throw err;
  }
});

/** The command line that reruns this study: every option given, in a fixed order. */
function commandLine(values: Record<string, string | boolean | undefined>): string {
  const parts = ['probunet reproduce'];
  for (const name of ['task', 'budget', 'seed', 'backend', 'workers', 'steps', 'batch', 'train-images', 'test-images', 'out']) {
    const v = values[name];
    if (typeof v === 'string') parts.push(`--${name} ${/^[\w./:@-]+$/.test(v) ? v : JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

interface Study {
  models: ModelResult[];
  evaluations: Array<{ type: StudyModel; evaluation: Evaluation }>;
  grids: Array<{ type: StudyModel; rows: SampleGridRow[] }>;
  assessment: AssessmentResult[];
}

/** What a finished model leaves in `<out>.parts/` (see reproduce-parts.ts). */
interface ModelPart {
  model: ModelResult;
  evaluation: Evaluation;
  rows: SampleGridRow[];
  assessment: AssessmentResult[];
  /** When this model's training started, and its wall time through assessment. */
  started: string;
  seconds: number;
}

async function runStudy(plan: StudyPlan, workers: number, backend: string, parts: StudyParts<ModelPart>): Promise<Study> {
  const train = openStudyData(plan, 'train');
  const test = openStudyData(plan, 'test');
  const spec = { channels: train.spec.channels, numClasses: train.spec.numClasses, ignoreLabel: train.spec.ignoreLabel };
  process.stderr.write(`reproduce ${plan.task} (${plan.budget}): ${train.name}, ${train.length} train / ${test.length} test images; ${plan.models.length} models × ${plan.training.steps} steps\n`);
  const study: Study = { models: [], evaluations: [], grids: [], assessment: [] };
  for (const [i, type] of plan.models.entries()) {
    const label = `[${i + 1}/${plan.models.length}] ${type}`;
    const done = parts.done.get(type);
    if (done) {
      study.models.push(done.model);
      study.evaluations.push({ type, evaluation: done.evaluation });
      study.grids.push({ type, rows: done.rows });
      study.assessment.push(...done.assessment);
      continue;
    }
    const partStarted = new Date().toISOString();
    const tm = performance.now();
    const assessed = study.assessment.length;
    const config = modelConfigOf(plan, type, spec);
    const model = createModel(config as unknown as ModelConfig, cliRegistry());
    try {
      const training = await trainModel(model, label, plan, train, workers, backend);
      const rows: SampleGridRow[] = [];
      let last = 0;
      const te = performance.now();
      const evaluation = await evaluateSampler(model, test, {
        sampleCounts: plan.evaluation.sampleCounts,
        seed: plan.evaluation.seed,
        split: 'test',
        onSamples: (example, samples) => {
          if (rows.length < plan.evaluation.gridImages) rows.push({ label: example.id, image: example, graders: example.annotations, samples: samples.slice(0, plan.evaluation.gridSamples) });
        },
        onProgress: ({ done, total }) => {
          if (done === total || performance.now() - last > 2000) {
            last = performance.now();
            process.stderr.write(`eval ${label}  ${done}/${total} images\n`);
          }
        },
      });
      study.models.push({
        type,
        config,
        training,
        evaluation: { card: evaluation.card, bySampleCount: evaluation.bySampleCount, modeShares: evaluation.modeShares, flipCalibration: evaluation.flipCalibration, seconds: (performance.now() - te) / 1000 },
      });
      study.evaluations.push({ type, evaluation });
      study.grids.push({ type, rows });
      // The annotation assessment is the Prob. U-Net's (its report section says so); a successor with a
      // latent space is not assessed here.
      if (type === 'prob-unet' && hasLatentSpace(model)) {
        for (const kind of plan.evaluation.implausibleKinds) {
          const data = openStudyData(plan, 'test', kind);
          const ta = performance.now();
          const assessment = await assessAnnotations(model, data, {
            samples: plan.evaluation.assessmentSamples,
            seed: plan.evaluation.seed,
            onProgress: ({ done, total }) => {
              if (done === total) process.stderr.write(`assess ${kind} annotations  ${done}/${total} images\n`);
            },
          });
          study.assessment.push(await scoreAssessment(kind, assessment, data, (performance.now() - ta) / 1000));
        }
      }
      await parts.save(type, {
        model: study.models.at(-1)!,
        evaluation,
        rows,
        assessment: study.assessment.slice(assessed),
        started: partStarted,
        seconds: (performance.now() - tm) / 1000,
      });
    } finally {
      model.dispose();
    }
  }
  return study;
}

async function trainModel(model: CheckpointableModel, label: string, plan: StudyPlan, train: ReturnType<typeof openStudyData>, workers: number, backend: string): Promise<ModelResult['training']> {
  const t = plan.training;
  const { trainer, close } = await createTrainer(model, { schedule: t.learningRate, seed: plan.seed, workers, backend: backend as BackendName });
  const progress = new Progress(t.steps, `train ${label}`);
  const every = Math.max(1, Math.round(t.steps / 20));
  const t0 = performance.now();
  let afterFirst = 0;
  let result: FitResult;
  try {
    result = await fit(trainer, tensorBatches(prefetch(batches(train, { batchSize: t.batch, shuffleSeed: plan.seed, epochs: Infinity, dropRemainder: true }), 2)), {
      steps: t.steps,
      onStep: (m) => {
        if (m.step === 1) afterFirst = performance.now();
        if (m.step % every === 0 || m.step === t.steps) {
          const terms = Object.entries(m.terms).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('  ');
          progress.update(m.step, `loss ${m.loss.toFixed(2)}  ${terms}`);
        }
      },
    });
  } catch (err) {
    await close();
    throw err;
  }
  const end = performance.now();
  const steps = trainer.step;
  const weightDecay = trainer.weightDecay;
  await close();
  // The trainer rejected a non-finite step and kept the last good weights: evaluate those, and say so.
  const stoppedEarly = result.error ? `stopped at step ${result.error.step}: non-finite loss` : null;
  if (stoppedEarly) process.stderr.write(`train ${label}: ${stoppedEarly}; evaluating the last good weights\n`);
  // The first step includes kernel compilation and warm-up: the pace is measured after it.
  return { steps, weightDecay, seconds: (end - t0) / 1000, msPerStep: steps > 1 ? (end - afterFirst) / (steps - 1) : end - t0, finalLoss: result.last?.loss ?? NaN, stoppedEarly };
}

async function writeFigures(dir: string, plan: StudyPlan, evaluations: Study['evaluations'], grids: Study['grids']): Promise<string[]> {
  const files: string[] = [];
  const add = async (name: string, figure: { svg?: string; png: Uint8Array } | undefined) => {
    if (figure) files.push(...(await writeFigure(dir, name, figure)).map((p) => basename(p)));
  };
  const panels = evaluations.map(({ type, evaluation }) => ({ title: type, evaluation }));
  await add('ged-vs-samples', await gedVersusSamplesFigure(panels, { title: `${plan.task}: GED versus number of samples, per model (${plan.budget} budget)` }));
  // A deterministic U-Net has one answer: no distribution over flips or modes to compare.
  const stochastic = panels.filter((p) => p.title !== 'deterministic-unet');
  await add('calibration', await calibrationFigure(stochastic));
  await add('mode-frequencies', await modeFrequencyFigure(stochastic));
  const numClasses = plan.data.source === 'synthetic-lidc' ? 2 : 24;
  for (const { type, rows } of grids) {
    const classes = plan.task === 'cityscapes-like' ? { classes: CITYSCAPES_CLASSES } : {};
    await add(`samples-${type}`, await sampleGridFigure(rows, { numClasses, ignoreLabel: 255, ...classes, title: `${type} on ${plan.task}: test images, their 4 graders and ${plan.evaluation.gridSamples} samples` }));
  }
  return files;
}
