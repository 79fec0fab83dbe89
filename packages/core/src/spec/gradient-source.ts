import type * as tf from '@tensorflow/tfjs-core';

/** One batch's gradients, by parameter name (caller owns the tensors), and the loss values. */
export interface GradientResult {
  grads: Map<string, tf.Tensor>;
  /** objective + λ·Σ½‖w‖². */
  loss: number;
  terms: Record<string, number>;
  /** Σ½‖w‖² over the decayed kernels. */
  halfSquaredNorm: number;
}

/**
 * Where a Trainer's gradients come from. The default (`ModelGradients`) differentiates the model in
 * this thread; `createWorkerGradients` (@probunet/backends/node) has worker threads compute shards.
 * The Trainer does the rest: the grader pick, the schedule, the finite checks, Adam.
 */
export interface GradientSource {
  /**
   * The λ of λ·Σ½‖w‖² this source adds, when it fixes one itself; a Trainer with another
   * `weightDecay` refuses it (the loss it logs and the update it applies would disagree).
   */
  readonly weightDecay?: number;
  /**
   * Gradients of objective + λ·Σ½‖w‖² for one batch at the model's current weights. `labels` is
   * [B,H,W] (one annotation per image), or [B,A,H,W] for a model with `lossTermsAllGraders`.
   */
  computeGradients(images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D, seed: number): Promise<GradientResult>;
}
