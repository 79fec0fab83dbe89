import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, NonFiniteLossError } from '../errors.js';
import type { TrainableModel } from '../spec/trainable-model.js';
import type { StepMetrics, TrainBatch, Trainer } from './trainer.js';

/** Why `fit` stopped: the step count reached, the signal, a rejected non-finite step, or the batches ran out. */
export type FitStop = 'finished' | 'aborted' | 'non-finite' | 'exhausted';

export interface FitOptions {
  /** Train until `trainer.step` reaches this (a total, so a resumed run ends where a straight one would). */
  steps: number;
  /** When aborted, `fit` stops after the step under way and resolves with `stopped: 'aborted'`. */
  signal?: AbortSignal;
  /** Called after every applied step, with the batch (valid until the call returns). */
  onStep?: (metrics: StepMetrics, batch: TrainBatch) => void | Promise<void>;
  /** Periodic checkpoints: `checkpoint('periodic')` after every `saveEvery` steps, except the last one. */
  saveEvery?: number;
  /**
   * Saves the run (the caller writes the file). Called every `saveEvery` steps and once at the end
   * with why `fit` stopped, whatever the reason except a thrown error; after a non-finite step the
   * Trainer has rolled it back, so the state saved is the last good one.
   */
  checkpoint?: (reason: FitStop | 'periodic') => Promise<void>;
}

export interface FitResult {
  stopped: FitStop;
  /** `trainer.step` at the end. */
  step: number;
  /** The metrics of the last applied step, if any. */
  last?: StepMetrics;
  /** The rejected step's error when `stopped` is 'non-finite'. */
  error?: NonFiniteLossError;
}

/**
 * The training loop: one `trainer.trainStep` per batch of `batches` until `options.steps`, the
 * signal, a non-finite step or the end of the batches. `fit` owns every batch it takes (disposed
 * after its step) and takes none it will not train on, so hand it a lazy stream (`tensorBatches` of
 * @probunet/datasets). Between steps it yields to the event loop so that signals get in. Any other
 * error is thrown after the batch is freed; a worker gradient source stays the caller's to close.
 */
export async function fit<M extends TrainableModel>(trainer: Trainer<M>, batches: AsyncIterable<TrainBatch>, options: FitOptions): Promise<FitResult> {
  const { steps, signal, onStep, saveEvery, checkpoint } = options;
  if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`steps must be an integer ≥ 0, got ${steps}`);
  if (saveEvery !== undefined && (!Number.isInteger(saveEvery) || saveEvery < 1)) throw new ConfigError(`saveEvery must be a positive integer, got ${saveEvery}`);
  let last: StepMetrics | undefined;
  let stopped: FitStop = 'exhausted';
  let error: NonFiniteLossError | undefined;
  if (trainer.step >= steps) stopped = 'finished';
  else if (signal?.aborted) stopped = 'aborted';
  else {
    try {
      for await (const batch of batches) {
        try {
          last = await trainer.trainStep(batch);
          await onStep?.(last, batch);
        } finally {
          tf.dispose([batch.images, batch.labels]);
        }
        if (checkpoint && saveEvery !== undefined && last.step % saveEvery === 0 && last.step < steps) await checkpoint('periodic');
        // Let signals in: on some backends a step settles in microtasks alone, which would starve them.
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (trainer.step >= steps) {
          stopped = 'finished';
          break;
        }
        if (signal?.aborted) {
          stopped = 'aborted';
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof NonFiniteLossError)) throw err;
      stopped = 'non-finite';
      error = err;
    }
  }
  await checkpoint?.(stopped);
  return { stopped, step: trainer.step, ...(last ? { last } : {}), ...(error ? { error } : {}) };
}
