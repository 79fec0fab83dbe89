import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepMetrics } from '@probunet/core';
import { writeFileAtomic } from '@probunet/core/node';
import { writeFigure } from './figures/evaluation-figures.js';
import { trainingCurveFigure } from './figures/training-curve.js';
import { formatLearningRate, type LearningRate } from './learning-rate.js';

/** One line of train.jsonl: the Trainer's step metrics, the pace, and the latent's KL per dimension. */
export interface TrainLogRecord extends StepMetrics {
  stepsPerSecond: number;
  /** Prob. U-Net only: KL per latent dimension (see klPerDimension). */
  klPerDim?: number[];
}

/**
 * training-curve.svg/.png from train.jsonl: the loss and each term against the step (log scale when
 * all are positive), with the steps where --resume changed the learning rate marked.
 */
export async function writeTrainingCurve(dir: string, run: { model: string; lrChanges: Array<{ afterStep: number; to: LearningRate }> }): Promise<void> {
  const log = (await readFile(join(dir, 'train.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TrainLogRecord);
  if (log.length === 0) return;
  const names = Object.keys(log[0]!.terms);
  const series = [
    { name: 'loss (objective + weight decay)', points: log.map((r) => [r.step, r.loss] as [number, number]) },
    ...names.map((k) => ({ name: k, points: log.map((r) => [r.step, r.terms[k] ?? NaN] as [number, number]) })),
  ];
  const logY = series.every((s) => s.points.every(([, y]) => !Number.isFinite(y) || y > 0));
  const markers = run.lrChanges.map((c) => ({ step: c.afterStep, label: `lr → ${formatLearningRate(c.to)}` }));
  const figure = await trainingCurveFigure(series, { title: `Training ${run.model}: loss and its terms${logY ? ' (log scale)' : ''}`, yTitle: 'loss per batch', logY, markers });
  await writeFigure(dir, 'training-curve', figure);
}

/** Drops log lines past the checkpoint's step (written after the last checkpoint of a killed run). */
export async function truncateLog(path: string, step: number): Promise<void> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return;
  }
  const kept = text.split('\n').filter((l) => l.trim() !== '' && (JSON.parse(l) as TrainLogRecord).step <= step);
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}
