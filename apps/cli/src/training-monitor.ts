import * as tf from '@tensorflow/tfjs-core';
import type { LatentSpaceModel } from '@probunet/core';

/**
 * Per latent dimension, KL(q(z|x,y) ‖ p(z|x)) of the diagonal Gaussians, averaged over the batch:
 * ln σp − ln σq + (σq² + (μq − μp)²) / (2σp²) − ½. Uses the first annotation of each image (the
 * trainer's own grader pick is not exposed), with the weights as they are after the step.
 * @param labels int32 [B,A,H,W]
 */
export async function klPerDimension(model: LatentSpaceModel, images: tf.Tensor4D, labels: tf.Tensor4D): Promise<number[]> {
  const first = tf.tidy(() => tf.squeeze(tf.slice(labels, [0, 0, 0, 0], [-1, 1, -1, -1]), [1]) as tf.Tensor3D);
  const p = model.priorDistribution(images);
  const q = model.posteriorDistribution(images, first);
  const kl = tf.tidy(() => {
    const varRatio = tf.exp(tf.mul(tf.sub(q.logSigma, p.logSigma), 2));
    const meanTerm = tf.div(tf.square(tf.sub(q.mean, p.mean)), tf.exp(tf.mul(p.logSigma, 2)));
    const perDim = tf.sub(tf.add(tf.sub(p.logSigma, q.logSigma), tf.mul(tf.add(varRatio, meanTerm), 0.5)), 0.5);
    return tf.mean(perDim, 0);
  });
  try {
    return Array.from(await kl.data());
  } finally {
    tf.dispose([first, p.mean, p.logSigma, q.mean, q.logSigma, kl]);
  }
}

/** KL below this many nats on every one of `window` consecutive steps counts as posterior collapse. */
export const COLLAPSE_KL_NATS = 0.01;
export const COLLAPSE_WINDOW = 50;

/**
 * Watches the KL term step by step and says, once, when it has stayed near zero for a whole
 * window: the posterior has collapsed onto the prior and the latent carries no information.
 */
export class CollapseDetector {
  private lowSince: number | undefined;
  private warned = false;
  constructor(
    private readonly threshold = COLLAPSE_KL_NATS,
    private readonly window = COLLAPSE_WINDOW,
  ) {}

  /** Returns a warning the first time the KL has been below the threshold for `window` steps. */
  observe(step: number, kl: number): string | undefined {
    if (!(kl < this.threshold)) {
      this.lowSince = undefined;
      return undefined;
    }
    this.lowSince ??= step;
    if (this.warned || step - this.lowSince + 1 < this.window) return undefined;
    this.warned = true;
    return (
      `warning: the KL term has stayed below ${this.threshold} nats for ${this.window} steps (steps ${this.lowSince}–${step}): ` +
      'the posterior may have collapsed onto the prior, so samples will all look alike. Check klPerDim in train.jsonl; a lower beta or a higher learning rate may help'
    );
  }
}

/**
 * What went non-finite, read from a NonFiniteLossError's message: the named loss terms that are NaN
 * or ±Infinity, else `gradient` or `update` (the Trainer's message lists the terms and the norms).
 */
export function nonFiniteTerms(message: string): string[] {
  const found = new Set<string>();
  for (const m of message.matchAll(/([A-Za-z][\w-]*) (-?Infinity|NaN)\b/g)) if (!['loss', 'norm', 'is'].includes(m[1]!)) found.add(m[1]!);
  if (found.size === 0 && /gradient norm (-?Infinity|NaN)\b/.test(message)) found.add('gradient');
  if (found.size === 0 && /update's norm/.test(message)) found.add('update');
  return [...found];
}
