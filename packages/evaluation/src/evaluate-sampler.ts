import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom, type SegmentationSampler } from '@probunet/core';
import { sampleFromDistribution, toTensors, type Example, type IndexedDataset } from '@probunet/datasets';
import { CITYSCAPES_FLIPS, type FlipSpec, type LabelMap } from '@probunet/metrics';
import { aggregate, type Aggregates } from './aggregate.js';
import { EvaluationError } from './errors.js';
import { measureImage, type ImageResult } from './image-metrics.js';
import { describeModel } from './model-description.js';
import { checkExample, checkModelFitsDataset, checkSampleCounts, shardRange } from './preflight.js';
import { hashExampleIds, type MetricConventions, type ProtocolCard } from './protocol-card.js';
import { EVALUATION_VERSION } from './version.js';

export interface EvaluationOptions {
  /** Samples per image to score; the largest is drawn once and its prefixes give the others. Default [1, 4, 8, 16]. */
  sampleCounts?: number[];
  /** Seed of the model's samples and the oracle's draws. Default 0. */
  seed?: number;
  /** Images per sampler call. Default 1. Samples depend on it (the noise is drawn per batch). */
  batchSize?: number;
  /** The dataset split, for the card, e.g. 'test'. Default 'unspecified'. */
  split?: string;
  /** Evaluate only this deterministic slice (whole batches); `mergeEvaluations` joins the parts. */
  shard?: { index: number; count: number };
  /** Overrides of the dataset's conventions (classes, emptyPair, ignoreLabel). */
  classes?: number[];
  emptyPair?: 'one' | 'nan';
  /** GED's NaN pairs under emptyPair 'nan' (see @probunet/metrics). Default 'propagate', the authors' code. */
  nanPairs?: 'propagate' | 'skip';
  ignoreLabel?: number;
  /** ECE's class and bins. Default class 1, 10 bins. */
  ece?: { classId?: number; bins?: number };
  /** Flips for calibration of examples that carry `meta.unflipped`. Default the paper's five Cityscapes flips. */
  flips?: FlipSpec[];
  /** Called after each image. */
  onProgress?: (progress: EvaluationProgress) => void;
  /** Called with each image's example and its samples (largest count), e.g. to draw figures; keep only what you need. */
  onSamples?: (example: Example, samples: Uint8Array[]) => void;
}

export interface EvaluationProgress {
  done: number;
  total: number;
  id: string;
  seconds: number;
}

/** The result of `evaluateSampler` (or of `mergeEvaluations`): plain JSON apart from NaN. */
export interface Evaluation extends Aggregates {
  card: ProtocolCard;
  /** In dataset order. */
  perImage: ImageResult[];
  /** Where the time went (not part of the result proper: shards and reruns differ). */
  timing: { loadingSeconds: number; samplingSeconds: number; metricsSeconds: number; totalSeconds: number };
}

/**
 * Samples every image of the dataset (or of one shard) and scores the samples: GED against the
 * graders, sample diversity, matched IoU, S_NCC and ECE for each sample count; where the example
 * knows its distribution also GED and matched IoU against it, the oracle floor, mode shares or
 * flip calibration. One batch of samples is held at a time. Model/dataset mismatches are thrown
 * before any sampling.
 */
export async function evaluateSampler(sampler: SegmentationSampler, dataset: IndexedDataset, options: EvaluationOptions = {}): Promise<Evaluation> {
  const t0 = performance.now();
  const sampleCounts = checkSampleCounts(options.sampleCounts ?? [1, 4, 8, 16]);
  const nMax = sampleCounts.at(-1)!;
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new EvaluationError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(seed)) throw new EvaluationError(`seed must be an integer, got ${seed}`);
  if (!dataset || typeof dataset.get !== 'function') throw new EvaluationError('dataset must be an IndexedDataset (with get(index))');
  if (dataset.length < 1) throw new EvaluationError(`${dataset.name} has no images`);
  const { start, end } = shardRange(dataset.length, batchSize, options.shard);
  const first = await dataset.get(start < end ? start : 0);
  const conv = conventionsOf(dataset, first, options);
  checkModelFitsDataset(sampler, dataset.spec, first, dataset.name);

  const perImage: ImageResult[] = [];
  const timing = { loadingSeconds: 0, samplingSeconds: 0, metricsSeconds: 0, totalSeconds: 0 };
  for (let b0 = start; b0 < end; b0 += batchSize) {
    const tLoad = performance.now();
    const examples = await Promise.all(Array.from({ length: Math.min(batchSize, end - b0) }, (_, k) => dataset.get(b0 + k)));
    examples.forEach((ex) => checkExample(ex, first, dataset.name));
    const tSample = performance.now();
    const { images, labels } = toTensors(examples.map((ex) => ({ ...ex, annotations: ex.annotations.slice(0, 1) })));
    labels.dispose();
    let data: Int32Array;
    try {
      const out = sampler.sample(images, nMax, { seed: SeededRandom.derive(seed, 11, b0 / batchSize).nextSeed() });
      try {
        data = (await out.data()) as Int32Array;
      } finally {
        out.dispose();
      }
    } finally {
      images.dispose();
    }
    const tMetrics = performance.now();
    const hw = first.height * first.width;
    examples.forEach((ex, k) => {
      const index = b0 + k;
      const views = Array.from({ length: nMax }, (_, s) => data.subarray((k * nMax + s) * hw, (k * nMax + s + 1) * hw));
      const map = (d: ArrayLike<number>): LabelMap => ({ data: d, height: ex.height, width: ex.width });
      const oracle = ex.distribution?.length ? sampleFromDistribution(ex, nMax, SeededRandom.derive(seed, 13, index).nextSeed()).map(map) : undefined;
      perImage.push(measureImage(index, ex, views.map(map), oracle, sampleCounts, conv));
      if (options.onSamples) options.onSamples(ex, views.map((v) => Uint8Array.from(v)));
    });
    const tDone = performance.now();
    timing.loadingSeconds += (tSample - tLoad) / 1000;
    timing.samplingSeconds += (tMetrics - tSample) / 1000;
    timing.metricsSeconds += (tDone - tMetrics) / 1000;
    const last = examples.at(-1)!;
    options.onProgress?.({ done: perImage.length, total: end - start, id: last.id, seconds: (tDone - t0) / 1000 });
  }
  timing.totalSeconds = (performance.now() - t0) / 1000;
  const card: ProtocolCard = {
    format: 'probunet-evaluation',
    version: 1,
    protocol: {
      dataset: { name: dataset.name, split: options.split ?? 'unspecified', images: dataset.length },
      examples: { count: perImage.length, hash: hashExampleIds(perImage.map((r) => r.id)) },
      sampleCounts,
      conventions: conv,
    },
    shard: options.shard ? { index: options.shard.index, count: options.shard.count } : null,
    model: describeModel(sampler),
    run: { backend: tf.getBackend(), seed, batchSize, package: '@probunet/evaluation', version: EVALUATION_VERSION, date: new Date().toISOString() },
  };
  return { card, perImage, ...aggregate(perImage, sampleCounts, conv), timing };
}

function conventionsOf(dataset: IndexedDataset, first: Example, options: EvaluationOptions): MetricConventions {
  const spec = dataset.spec;
  const classes = [...(options.classes ?? spec.evalClasses)];
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0 || c >= spec.numClasses) throw new EvaluationError(`evaluation class ${c} is not a class of ${dataset.name} (0..${spec.numClasses - 1})`);
  }
  const ece = { classId: options.ece?.classId ?? 1, bins: options.ece?.bins ?? 10 };
  if (!Number.isInteger(ece.classId) || ece.classId < 0 || ece.classId >= spec.numClasses) {
    throw new EvaluationError(`ece.classId must be a class of ${dataset.name} (0..${spec.numClasses - 1}), got ${ece.classId}`);
  }
  if (!Number.isInteger(ece.bins) || ece.bins < 1) throw new EvaluationError(`ece.bins must be a positive integer, got ${ece.bins}`);
  const emptyPair = options.emptyPair ?? spec.emptyPair;
  if (emptyPair !== 'one' && emptyPair !== 'nan') throw new EvaluationError(`emptyPair must be 'one' or 'nan', got ${String(emptyPair)}`);
  const nanPairs = options.nanPairs ?? 'propagate';
  if (nanPairs !== 'propagate' && nanPairs !== 'skip') throw new EvaluationError(`nanPairs must be 'propagate' or 'skip', got ${String(nanPairs)}`);
  return {
    classes,
    emptyPair,
    nanPairs,
    ignoreLabel: options.ignoreLabel ?? spec.ignoreLabel,
    numClasses: spec.numClasses,
    truthWeights: 'graders uniform; distribution modes by probability',
    gtRepetition:
      'graders repeated to n and Hungarian-matched when m divides n, else optimal transport with uniform weights; distribution modes by optimal transport',
    ncc: { epsilon: 1e-8, standardDeviation: 'population', constantMap: 'NaN' },
    ece,
    modeAssignment: 'nearest mode by mean 1 − IoU over classes, empty pair one',
    // Flip calibration needs the unflipped labels (Cityscapes and its synthetic twin carry them).
    flips: first.meta?.unflipped instanceof Uint8Array ? (options.flips ?? CITYSCAPES_FLIPS).map((f) => ({ ...f })) : null,
    distributionSampleCount: 'largest',
  };
}
