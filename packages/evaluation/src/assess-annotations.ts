import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, type AnnotationScore } from '@probunet/core';
import type { Example, IndexedDataset } from '@probunet/datasets';
import { summarize, type Summary } from './aggregate.js';
import { EvaluationError } from './errors.js';
import { checkModelFitsDataset } from './preflight.js';
import type { SegmentationSampler } from '@probunet/core';

/** A model that can score an annotation (the Prob. U-Net: its posterior gives the ELBO and log-likelihood). */
export interface AnnotationScorer extends SegmentationSampler {
  scoreAnnotation(images: tf.Tensor4D, labels: tf.Tensor3D, options?: { samples?: number; seed?: number }): Promise<AnnotationScore>;
}

export interface AnnotationAssessmentOptions {
  /** Posterior draws per score. Default 32. */
  samples?: number;
  seed?: number;
  /** How many of the least plausible annotations to list. Default 10. */
  worst?: number;
  onProgress?: (progress: { done: number; total: number; id: string }) => void;
}

export interface AnnotationRecord {
  index: number;
  id: string;
  grader: number;
  /** Nats, summed over the image's pixels. */
  elbo: number;
  logLikelihood: number;
  kl: number;
}

export interface AnnotationAssessment {
  dataset: { name: string; images: number };
  samples: number;
  seed: number;
  /** Every grader's annotation of every image, in dataset order. */
  annotations: AnnotationRecord[];
  /** Per grader (annotation position): ELBO, log-likelihood and KL over the images. */
  perGrader: Array<{ grader: number; elbo: Summary; logLikelihood: Summary; kl: Summary }>;
  /** The least plausible annotations (lowest log-likelihood), worst first. */
  leastPlausible: AnnotationRecord[];
}

/**
 * Scores every grader's annotation of every image under the model (ELBO and importance-sampled
 * log p(y|x) from `scoreAnnotation`), summarises per grader and lists the least plausible
 * annotations: candidates for a second look, or a grader whose style the model finds unusual.
 */
export async function assessAnnotations(model: AnnotationScorer, dataset: IndexedDataset, options: AnnotationAssessmentOptions = {}): Promise<AnnotationAssessment> {
  if (typeof (model as Partial<AnnotationScorer>).scoreAnnotation !== 'function') {
    throw new EvaluationError('assessAnnotations needs a model with scoreAnnotation (the Prob. U-Net); this model has none');
  }
  const samples = options.samples ?? 32;
  const seed = options.seed ?? 0;
  const worst = options.worst ?? 10;
  if (!Number.isInteger(samples) || samples < 1) throw new EvaluationError(`samples must be a positive integer, got ${samples}`);
  if (dataset.length < 1) throw new EvaluationError(`${dataset.name} has no images`);
  const first = await dataset.get(0);
  checkModelFitsDataset(model, dataset.spec, first, dataset.name);
  const annotations: AnnotationRecord[] = [];
  for (let index = 0; index < dataset.length; index++) {
    const ex = index === 0 ? first : await dataset.get(index);
    const score = await scoreExample(model, ex, samples, SeededRandom.derive(seed, 17, index).nextSeed());
    ex.annotations.forEach((_, grader) =>
      annotations.push({ index, id: ex.id, grader, elbo: score.elbo[grader]!, logLikelihood: score.logLikelihood[grader]!, kl: score.kl[grader]! }),
    );
    options.onProgress?.({ done: index + 1, total: dataset.length, id: ex.id });
  }
  const graders = Math.max(...annotations.map((a) => a.grader)) + 1;
  const perGrader = Array.from({ length: graders }, (_, grader) => {
    const mine = annotations.filter((a) => a.grader === grader);
    return { grader, elbo: summarize(mine.map((a) => a.elbo)), logLikelihood: summarize(mine.map((a) => a.logLikelihood)), kl: summarize(mine.map((a) => a.kl)) };
  });
  const leastPlausible = [...annotations].sort((a, b) => a.logLikelihood - b.logLikelihood || a.index - b.index || a.grader - b.grader).slice(0, worst);
  return { dataset: { name: dataset.name, images: dataset.length }, samples, seed, annotations, perGrader, leastPlausible };
}

/** All of one image's annotations in one call: the image repeated once per grader. */
async function scoreExample(model: AnnotationScorer, ex: Example, samples: number, seed: number): Promise<AnnotationScore> {
  const m = ex.annotations.length;
  const hw = ex.height * ex.width;
  const labelData = new Int32Array(m * hw);
  ex.annotations.forEach((a, k) => labelData.set(a, k * hw));
  const [images, labels] = tf.tidy(() => {
    const one = tf.tensor4d(ex.image, [1, ex.height, ex.width, ex.channels]);
    return [tf.tile(one, [m, 1, 1, 1]) as tf.Tensor4D, tf.tensor3d(labelData, [m, ex.height, ex.width], 'int32')];
  });
  try {
    return await model.scoreAnnotation(images, labels, { samples, seed });
  } finally {
    tf.dispose([images, labels]);
  }
}
