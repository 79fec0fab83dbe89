import type { BackendName } from '@probunet/backends';
import { DataParallelTrainer } from '@probunet/backends/node';
import { ProbUNet, Trainer, type CheckpointableModel, type PiecewiseSchedule } from '@probunet/core';
import { UsageError } from './cli-errors.js';

/** How the CLI trains: the schedule, and in this thread (workers 0) or on data-parallel worker threads. */
export interface TrainerSetup {
  schedule: PiecewiseSchedule;
  seed: number;
  /** Data-parallel worker threads; 0 trains in this thread. */
  workers: number;
  /** The workers' backend (the one the main thread selected). */
  backend: BackendName;
}

/**
 * Data-parallel training needs a Prob. U-Net built from @probunet/core's components: each worker
 * rebuilds the model from its config. Other types are refused before any work.
 */
export function checkWorkersFit(model: CheckpointableModel, workers: number): void {
  if (workers > 0 && !(model instanceof ProbUNet)) {
    throw new UsageError(`--workers ${workers}: data-parallel training supports the prob-unet only (its workers rebuild the model from @probunet/core's components); this run trains a ${model.kind}: drop --workers (or --workers 0)`);
  }
}

/**
 * A Trainer for `model`: new, or continuing `restored` (a checkpoint's trainer: its step, random
 * state and Adam moments carry over; `restored` is disposed). With `setup.workers` > 0 it is a
 * DataParallelTrainer, which must be `close()`d.
 */
export async function createTrainer(model: CheckpointableModel, setup: TrainerSetup, restored?: Trainer<CheckpointableModel>): Promise<Trainer<CheckpointableModel>> {
  checkWorkersFit(model, setup.workers);
  const options = {
    learningRate: setup.schedule,
    seed: setup.seed,
    ...(restored ? { weightDecay: restored.weightDecay, adam: { beta1: restored.optimizer.beta1, beta2: restored.optimizer.beta2, epsilon: restored.optimizer.epsilon } } : {}),
  };
  const trainer =
    setup.workers > 0
      ? ((await DataParallelTrainer.create(model as ProbUNet, { ...options, workers: setup.workers, backend: setup.backend })) as Trainer<ProbUNet> as Trainer<CheckpointableModel>)
      : new Trainer(model, options);
  if (restored) {
    try {
      // restoreState copies the moments, so the old trainer can go.
      trainer.restoreState(restored.getState(), restored.optimizer.stateTensors());
    } catch (err) {
      await closeTrainer(trainer);
      trainer.dispose();
      throw err;
    } finally {
      restored.dispose();
    }
  }
  return trainer;
}

/** Stops a DataParallelTrainer's workers; nothing for a plain Trainer. */
export async function closeTrainer(trainer: Trainer<CheckpointableModel>): Promise<void> {
  if (trainer instanceof DataParallelTrainer) await trainer.close();
}
