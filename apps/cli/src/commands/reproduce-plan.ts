import { MODEL_TYPES } from '@probunet/baselines';
import type { PiecewiseSchedule } from '@probunet/core';
import { createSyntheticCityscapes, createSyntheticLidc, type ImplausibleKind, type IndexedDataset } from '@probunet/datasets';

export const TASKS = ['lidc-like', 'cityscapes-like'] as const;
export type Task = (typeof TASKS)[number];
export const BUDGETS = ['quick', 'full'] as const;
export type Budget = (typeof BUDGETS)[number];

/** Everything a reproduction run does, the same for every model: written into results.json. */
export interface StudyPlan {
  task: Task;
  budget: Budget;
  seed: number;
  data: {
    source: 'synthetic-lidc' | 'synthetic-cityscapes';
    height: number;
    width: number;
    /** Annotations per image, train and test (the Trainer picks one grader per image per step). */
    graders: number;
    trainImages: number;
    testImages: number;
    trainSeed: number;
    testSeed: number;
    /** cityscapes-like only: the persons' size factor of the synthetic source (1 = its default). */
    personScale?: number;
  };
  /** The U-Net every model is built on. */
  backbone: { channels: number[]; convsPerBlock: number };
  /** The Prob. U-Net's own options (the baselines keep their types' defaults: see packages/baselines). */
  probUNet: { latentDim: number; num1x1Convs: number; beta: number };
  training: { steps: number; batch: number; learningRate: PiecewiseSchedule; weightDecay: number };
  evaluation: { sampleCounts: number[]; seed: number; assessmentSamples: number; implausibleKinds: ImplausibleKind[]; gridImages: number; gridSamples: number };
  models: readonly StudyModel[];
}

/** What a user may override (smoke tests, custom budgets); documented in the help. */
export interface PlanOverrides {
  steps?: number | undefined;
  batch?: number | undefined;
  trainImages?: number | undefined;
  testImages?: number | undefined;
}

/**
 * The budgets. quick: small images and a small U-Net, enough for the orderings the quick checks
 * test (a few minutes on 2 cores). full: the same images and U-Net trained 23–33× longer on 5–10×
 * the data; the steps come from measured step times so that a task takes about 90 minutes on 2 cores
 * (docs/reproduction.md has the measurement, and why longer training won over larger images).
 */
interface BudgetRow {
  height: number;
  width: number;
  channels: number[];
  convsPerBlock: number;
  steps: number;
  trainImages: number;
  testImages: number;
  /** Start rate, later rate, and where it drops as a fraction of the steps. */
  rate: { values: [number, number]; dropAt: number };
  /** cityscapes-like: persons' size factor (see docs/reproduction.md, calibration experiments). */
  personScale?: number;
}

// quick and lidc-like full: a short budget starts 10× above the authors' 1e-4 and drops at 80 %
// (the demo's schedule). cityscapes-like full: the authors' 1e-4, halved at 75 %, with persons ×2 —
// the two settings the calibration experiments found to matter (e6/e7 in docs/reproduction.md:
// the person flip is carried by z only with both); lidc-like at 1e-4 was no better (l1).
const SHORT_RATE = { values: [1e-3, 2.5e-4] as [number, number], dropAt: 0.8 };
const BUDGET_TABLE: Record<Task, Record<Budget, BudgetRow>> = {
  'lidc-like': {
    quick: { height: 32, width: 32, channels: [16, 32, 64], convsPerBlock: 2, steps: 400, trainImages: 400, testImages: 32, rate: SHORT_RATE },
    full: { height: 32, width: 32, channels: [16, 32, 64], convsPerBlock: 2, steps: 13_000, trainImages: 4000, testImages: 200, rate: SHORT_RATE },
  },
  'cityscapes-like': {
    quick: { height: 32, width: 64, channels: [16, 32, 64], convsPerBlock: 2, steps: 300, trainImages: 400, testImages: 24, rate: SHORT_RATE },
    full: { height: 32, width: 64, channels: [16, 32, 64], convsPerBlock: 2, steps: 10_500, trainImages: 2000, testImages: 100, rate: { values: [1e-4, 5e-5], dropAt: 0.75 }, personScale: 2 },
  },
};

/**
 * The models a study trains and scores, in this order: the paper's six (MODEL_TYPES), then its
 * successors from @probunet/successors (Stochastic Segmentation Networks, the hierarchical Prob. U-Net),
 * each on the same U-Net with its type's defaults.
 */
export const STUDY_MODELS = [...MODEL_TYPES, 'ssn', 'hierarchical-prob-unet'] as const;
export type StudyModel = (typeof STUDY_MODELS)[number];

export function studyPlan(task: Task, budget: Budget, seed: number, overrides: PlanOverrides = {}): StudyPlan {
  const b = BUDGET_TABLE[task][budget];
  const steps = overrides.steps ?? b.steps;
  return {
    task,
    budget,
    seed,
    data: {
      source: task === 'lidc-like' ? 'synthetic-lidc' : 'synthetic-cityscapes',
      height: b.height,
      width: b.width,
      graders: 4,
      trainImages: overrides.trainImages ?? b.trainImages,
      testImages: overrides.testImages ?? b.testImages,
      trainSeed: seed,
      // A test set the models never saw: another seed of the same source.
      testSeed: seed + 1_000_003,
      ...(b.personScale !== undefined ? { personScale: b.personScale } : {}),
    },
    backbone: { channels: b.channels, convsPerBlock: b.convsPerBlock },
    probUNet: { latentDim: 6, num1x1Convs: 3, beta: 1 },
    training: {
      steps,
      batch: overrides.batch ?? 8,
      // The same for every model (see BUDGET_TABLE).
      learningRate: { boundaries: [Math.max(1, Math.floor(steps * b.rate.dropAt))], values: [...b.rate.values] },
      // The Trainer's default (what createTrainer uses); each model's record states the value used.
      weightDecay: 1e-5,
    },
    evaluation: { sampleCounts: [1, 4, 8, 16], seed: seed + 17, assessmentSamples: 16, implausibleKinds: ['shifted', 'inverted'], gridImages: 3, gridSamples: 8 },
    models: STUDY_MODELS,
  };
}

/** The train split, the test split, and the test split with one implausible grader per image. */
export function openStudyData(plan: StudyPlan, split: 'train' | 'test', implausibleGrader?: ImplausibleKind): IndexedDataset {
  const d = plan.data;
  const count = split === 'train' ? d.trainImages : d.testImages;
  const seed = split === 'train' ? d.trainSeed : d.testSeed;
  const extra = implausibleGrader ? { implausibleGrader } : {};
  return d.source === 'synthetic-lidc'
    ? createSyntheticLidc({ count, size: d.height, graders: d.graders, seed, ...extra })
    : createSyntheticCityscapes({ count, height: d.height, width: d.width, graders: d.graders, seed, ...(d.personScale !== undefined ? { personScale: d.personScale } : {}), ...extra });
}

/** The createModel config of one model type on this plan's data and backbone. */
export function modelConfigOf(plan: StudyPlan, type: StudyModel, spec: { channels: number; numClasses: number; ignoreLabel: number }): Record<string, unknown> {
  const common = { type, inputChannels: spec.channels, numClasses: spec.numClasses, ignoreLabel: spec.ignoreLabel, ...plan.backbone, seed: plan.seed };
  if (type === 'prob-unet') return { ...common, ...plan.probUNet };
  // One scalar latent per pixel at every decoder scale below the finest (the type's default asks for
  // three, more than a 3-level U-Net has): HPU-Net's 1-channel latents on this plan's U-Net.
  if (type === 'hierarchical-prob-unet') return { ...common, latentDims: plan.backbone.channels.slice(1).map(() => 1) };
  return common;
}
