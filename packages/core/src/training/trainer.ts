import '../register-gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, InputError, NonFiniteLossError } from '../errors.js';
import { validateAnnotationsAsync, validateImagesAsync } from '../spec/input.js';
import type { GradientSource } from '../spec/gradient-source.js';
import type { TrainableModel } from '../spec/trainable-model.js';
import { ModelGradients } from './model-gradients.js';
import { SeededRandom } from '../ops/random.js';
import { sumOfSquares } from '../ops/sum.js';
import { Adam, type AdamOptions } from './adam.js';
import { AUTHORS_SCHEDULE, checkSchedule, learningRateAt, type PiecewiseSchedule } from './schedule.js';

export interface TrainerOptions {
  /** A constant rate or a piecewise schedule; default the authors' (1e-4 → 5e-5 → 1e-5 → 5e-7 at 80k/160k/240k). */
  learningRate?: number | PiecewiseSchedule;
  /** L2 coefficient on conv kernels (not the logits conv, not biases); finite and ≥ 0. Default 1e-5. */
  weightDecay?: number;
  /** Seeds grader choice and posterior noise. Default 0. */
  seed?: number;
  adam?: AdamOptions;
  /** Validate shapes, dtypes, label range (of every grader) and finiteness of every batch. Default true. */
  validate?: boolean;
  /**
   * Where the gradients come from; default `ModelGradients` (this thread). `createWorkerGradients`
   * (@probunet/backends/node) computes them on worker threads; a user may pass another (e.g.
   * gradients averaged across machines). The caller owns it (and closes it, if it has `close()`).
   */
  gradientSource?: GradientSource;
}

/**
 * A training batch. `labels` is either one annotation per image, int32 [B,H,W], or several,
 * int32 [B,A,H,W]: then one grader per image is picked at random each step.
 */
export interface TrainBatch {
  images: tf.Tensor4D;
  labels: tf.Tensor3D | tf.Tensor4D;
}

export interface StepMetrics {
  /** 1-based count of applied updates after this step. */
  step: number;
  /** The objective plus weight decay (for the Prob. U-Net: −ELBO + λ·Σ½‖w‖²). */
  loss: number;
  /** The model's named loss parts (Prob. U-Net: `reconstruction`, `kl`). */
  terms: Record<string, number>;
  /** λ·Σ½‖w‖². */
  weightDecay: number;
  gradNorm: number;
  /** ‖Δw‖₂ of the applied update (checked finite before it was applied). */
  updateNorm: number;
  learningRate: number;
}

/** What a checkpoint stores of a trainer besides the model and Adam's moments. */
export interface TrainerState {
  step: number;
  rngState: number;
  schedule: PiecewiseSchedule;
  weightDecay: number;
  adam: { beta1: number; beta2: number; epsilon: number; iterations: number };
}

/**
 * Everything a Trainer needs to continue a run: its state and Adam's moments as plain float32
 * arrays (no tensors, so nothing to dispose), by `<parameter>/adam_m` and `<parameter>/adam_v`.
 * `restoreCheckpoint` returns one; `Trainer.fromState` continues from it.
 */
export interface SavedTrainerState {
  readonly state: TrainerState;
  readonly moments: ReadonlyMap<string, { readonly shape: readonly number[]; readonly values: Float32Array }>;
}

/**
 * What may change when a run continues: the learning rate (from the saved step on), where the
 * gradients come from (workers), and batch validation. The weight decay, Adam's hyper-parameters,
 * the step and the random state are the saved run's.
 */
export type ResumeOptions = Pick<TrainerOptions, 'learningRate' | 'gradientSource' | 'validate'>;

/**
 * Minimises the model's objective + λ·Σ½‖w‖² with Adam; for the Prob. U-Net the objective is
 * −ELBO = mean_b[Σ_pixels CE(logits(z_q), y)] + β·mean_b[KL(q‖p)].
 * Each step checks that the loss, the gradients and the update are finite before applying
 * anything (the update with one fused reduction read back once); a bad step throws
 * NonFiniteLossError and leaves the weights, Adam's moments and count, the step counter and the
 * random state as they were, so the same step can be retried with a lower learning rate.
 */
export class Trainer<M extends TrainableModel = TrainableModel> {
  readonly model: M;
  readonly optimizer: Adam;
  readonly schedule: PiecewiseSchedule;
  readonly weightDecay: number;
  private rng: SeededRandom;
  private validate: boolean;
  private steps = 0;
  private disposed = false;
  private readonly variables: Map<string, tf.Variable>;
  private readonly gradients: GradientSource;

  constructor(model: M, options: TrainerOptions = {}) {
    this.model = model;
    const lr = options.learningRate ?? AUTHORS_SCHEDULE;
    this.schedule = checkSchedule(typeof lr === 'number' ? { boundaries: [], values: [lr] } : lr);
    this.weightDecay = options.weightDecay ?? 1e-5;
    if (!(this.weightDecay >= 0) || !Number.isFinite(this.weightDecay)) {
      throw new ConfigError(`weightDecay must be a finite number ≥ 0, got ${this.weightDecay}: the default is 1e-5`);
    }
    this.rng = new SeededRandom(options.seed ?? 0);
    this.validate = options.validate ?? true;
    this.optimizer = new Adam(options.adam);
    const params = model.parameters();
    this.variables = new Map(params.map((p) => [p.name, p.variable]));
    const source = options.gradientSource;
    if (source?.weightDecay !== undefined && source.weightDecay !== this.weightDecay) {
      throw new ConfigError(
        `the gradient source computes with weightDecay ${source.weightDecay}, the Trainer uses ${this.weightDecay}: create the source with the Trainer's weightDecay`,
      );
    }
    this.gradients = source ?? new ModelGradients(model, this.weightDecay);
  }

  /**
   * A Trainer that continues a saved run (`restoreCheckpoint(...).trainerState`): the same step,
   * random state, weight decay, Adam hyper-parameters and moments, and the saved learning-rate
   * schedule unless `options.learningRate` replaces it.
   */
  static fromState<M extends TrainableModel>(model: M, saved: SavedTrainerState, options: ResumeOptions = {}): Trainer<M> {
    const { state } = saved;
    const trainer = new Trainer(model, {
      learningRate: options.learningRate ?? state.schedule,
      weightDecay: state.weightDecay,
      adam: { beta1: state.adam.beta1, beta2: state.adam.beta2, epsilon: state.adam.epsilon },
      ...(options.gradientSource ? { gradientSource: options.gradientSource } : {}),
      ...(options.validate !== undefined ? { validate: options.validate } : {}),
    });
    const tensors = new Map([...saved.moments].map(([name, m]) => [name, tf.tensor(m.values, [...m.shape], 'float32')]));
    try {
      trainer.restoreState(state, tensors);
    } catch (err) {
      trainer.dispose();
      throw err;
    } finally {
      tf.dispose([...tensors.values()]);
    }
    return trainer;
  }

  /** Updates applied so far. */
  get step(): number {
    return this.steps;
  }

  /** One Adam update on a batch. */
  async trainStep(batch: TrainBatch): Promise<StepMetrics> {
    this.assertLive();
    if (typeof batch !== 'object' || batch === null || !(batch.images instanceof tf.Tensor) || !(batch.labels instanceof tf.Tensor)) {
      throw new InputError('trainStep takes { images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D }');
    }
    const { images } = batch;
    const rngState = this.rng.getState();
    // A model that picks its own grader per image (an ensemble member each) gets them all.
    const allGraders = this.model.lossTermsAllGraders !== undefined && batch.labels.rank === 4;
    let labels: tf.Tensor3D | tf.Tensor4D | undefined;
    try {
      if (this.validate) {
        await validateImagesAsync(images, this.model.inputSpec);
        await validateAnnotationsAsync(batch.labels, images, this.model.inputSpec);
      }
      labels = allGraders ? (batch.labels as tf.Tensor4D) : this.pickAnnotations(batch);
      const seed = this.rng.nextSeed();
      const learningRate = learningRateAt(this.schedule, this.steps);
      const g = await this.gradients.computeGradients(images, labels, seed);
      try {
        const gradNorm = await globalNorm([...g.grads.values()]);
        const rejected = (what: string) => {
          const parts = Object.entries(g.terms).map(([n, v]) => `${n} ${v}`).join(', ');
          return new NonFiniteLossError(
            this.steps + 1,
            `step ${this.steps + 1}: ${what} (loss ${g.loss}: ${parts}; gradient norm ${gradNorm}; learning rate ${learningRate}); ` +
              'no update was applied. Lower the learning rate, check the inputs, or resume from the last good checkpoint',
          );
        };
        if (!Number.isFinite(g.loss) || !Number.isFinite(gradNorm)) throw rejected('the loss or the gradient is not finite');
        const pending = this.optimizer.prepare(this.variables, g.grads, learningRate);
        let updateNorm: number;
        try {
          updateNorm = Math.sqrt((await pending.updateSquaredNorm.data())[0]!);
        } catch (err) {
          this.optimizer.discard(pending);
          throw err;
        }
        if (!Number.isFinite(updateNorm)) {
          this.optimizer.discard(pending);
          throw rejected(`the update's norm is ${updateNorm} in float32 (NaN, Inf, or beyond 1.8e19): the weights would be ruined`);
        }
        this.optimizer.commit(pending, this.variables);
        this.steps++;
        return { step: this.steps, loss: g.loss, terms: g.terms, weightDecay: this.weightDecay * g.halfSquaredNorm, gradNorm, updateNorm, learningRate };
      } finally {
        tf.dispose([...g.grads.values()]);
      }
    } catch (err) {
      this.rng = SeededRandom.fromState(rngState); // a rejected step draws nothing
      throw err;
    } finally {
      if (labels && labels !== batch.labels) labels.dispose();
    }
  }

  getState(): TrainerState {
    return {
      step: this.steps,
      rngState: this.rng.getState(),
      schedule: { boundaries: [...this.schedule.boundaries], values: [...this.schedule.values] },
      weightDecay: this.weightDecay,
      adam: {
        beta1: this.optimizer.beta1,
        beta2: this.optimizer.beta2,
        epsilon: this.optimizer.epsilon,
        iterations: this.optimizer.iterations,
      },
    };
  }

  /** Restores the step count, RNG and Adam moments saved in a checkpoint. */
  restoreState(state: TrainerState, optimizerTensors: ReadonlyMap<string, tf.Tensor>): void {
    this.assertLive();
    this.optimizer.restore(state.adam.iterations, optimizerTensors, this.variables);
    this.steps = state.step;
    this.rng = SeededRandom.fromState(state.rngState);
  }

  /** Parameter variables by checkpoint name. */
  namedVariables(): ReadonlyMap<string, tf.Variable> {
    return this.variables;
  }

  /** Frees Adam's moments; any later step throws DisposedError. */
  dispose(): void {
    this.disposed = true;
    this.optimizer.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('this Trainer has been disposed (its Adam moments are freed): create a new one, or restore a checkpoint');
    if ((this.model as { isDisposed?: boolean }).isDisposed) throw new DisposedError('the model of this Trainer has been disposed');
  }

  /** [B,A,H,W] → one grader per image, chosen by the trainer's RNG. */
  private pickAnnotations(batch: TrainBatch): tf.Tensor3D {
    const { labels } = batch;
    if (!(labels instanceof tf.Tensor)) throw new InputError('labels must be a tf.Tensor');
    if (labels.rank === 3) return labels as tf.Tensor3D;
    if (labels.rank !== 4) {
      throw new InputError(`labels must be [B,H,W] or [B,graders,H,W], got shape [${labels.shape.join(', ')}]`);
    }
    const [b, a, h, w] = labels.shape as [number, number, number, number];
    if (a === 0) throw new InputError('labels have zero graders per image');
    const picks = Array.from({ length: b }, (_, i) => i * a + this.rng.nextInt(a));
    // Slices and one concatenation, not tf.gather: the cpu-storage backends gather element by
    // element in JavaScript (17 ms per LIDC batch of 8), while a leading-axis slice is a view.
    return tf.tidy(() => {
      const flat = tf.reshape(labels, [b * a, h, w]);
      return tf.concat(picks.map((p) => tf.slice(flat, [p, 0, 0], [1, h, w])), 0) as tf.Tensor3D;
    });
  }
}

/** ‖g‖₂ over a list of tensors. */
async function globalNorm(tensors: tf.Tensor[]): Promise<number> {
  const t = tf.tidy(() => tf.sqrt(sumOfSquares(tensors)));
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}
