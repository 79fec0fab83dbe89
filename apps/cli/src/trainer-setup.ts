import type { BackendName } from '@probunet/backends';
import { createWorkerGradients, type PluginModule } from '@probunet/backends/node';
import { Trainer, type CheckpointableModel, type PiecewiseSchedule, type SavedTrainerState } from '@probunet/core';

/** How the CLI trains: the schedule, and in this thread (workers 0) or on data-parallel worker threads. */
export interface TrainerSetup {
  schedule: PiecewiseSchedule;
  seed: number;
  /** Data-parallel worker threads; 0 trains in this thread. */
  workers: number;
  /** The workers' backend (the one the main thread selected). */
  backend: BackendName;
}

/** The plugins data-parallel workers import to rebuild any model the CLI builds (cliRegistry's). */
export const WORKER_PLUGINS: readonly PluginModule[] = [
  { module: '@probunet/baselines', export: 'baselinesPlugin' },
  { module: '@probunet/successors', export: 'successorsPlugin' },
];

/** A Trainer and what stops its gradient workers (nothing when it trains in this thread). */
export interface TrainerRun {
  trainer: Trainer<CheckpointableModel>;
  /** Stops the workers and frees the Trainer's Adam moments; the model stays the caller's. */
  close(): Promise<void>;
}

/**
 * A Trainer for `model`: new, or continuing `saved` (a checkpoint's trainer state: its step, random
 * state, weight decay and Adam moments carry over; `setup.schedule` is the schedule from then on).
 * With `setup.workers` > 0 its gradients come from that many worker threads.
 */
export async function createTrainer(model: CheckpointableModel, setup: TrainerSetup, saved?: SavedTrainerState): Promise<TrainerRun> {
  const workers =
    setup.workers > 0
      ? await createWorkerGradients(model, { workers: setup.workers, backend: setup.backend, plugins: WORKER_PLUGINS, ...(saved ? { weightDecay: saved.state.weightDecay } : {}) })
      : undefined;
  try {
    const source = workers ? { gradientSource: workers } : {};
    const trainer = saved ? Trainer.fromState(model, saved, { learningRate: setup.schedule, ...source }) : new Trainer(model, { learningRate: setup.schedule, seed: setup.seed, ...source });
    return {
      trainer,
      close: async () => {
        await workers?.close();
        trainer.dispose();
      },
    };
  } catch (err) {
    await workers?.close();
    throw err;
  }
}
