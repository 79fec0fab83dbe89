import type { InputSpec, SegmentationSampler } from '@probunet/core';
import type { DatasetSpec, Example } from '@probunet/datasets';
import { EvaluationError } from './errors.js';

/** The slice of image indices a shard evaluates: whole batches, so samples do not depend on the shard count. */
export function shardRange(images: number, batchSize: number, shard: { index: number; count: number } | undefined): { start: number; end: number } {
  if (!shard) return { start: 0, end: images };
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1) throw new EvaluationError(`shard.count must be a positive integer, got ${count}`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new EvaluationError(`shard.index must be an integer in 0..${count - 1} (e.g. JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID), got ${index}`);
  }
  const batches = Math.ceil(images / batchSize);
  const first = Math.floor((index * batches) / count);
  const last = Math.floor(((index + 1) * batches) / count);
  return { start: Math.min(images, first * batchSize), end: Math.min(images, last * batchSize) };
}

/** Sample counts: positive integers, returned sorted and without repeats. */
export function checkSampleCounts(counts: unknown): number[] {
  if (!Array.isArray(counts) || counts.length === 0) throw new EvaluationError('sampleCounts must be a non-empty list such as [1, 4, 8, 16]');
  for (const n of counts) {
    if (!Number.isInteger(n) || n < 1) throw new EvaluationError(`sampleCounts must hold positive integers, got ${String(n)}`);
  }
  return [...new Set(counts as number[])].sort((a, b) => a - b);
}

/**
 * Checks, before any sampling, that the model fits the dataset: classes, input channels, an image
 * size the encoder can down-sample, evaluation classes inside the label range.
 */
export function checkModelFitsDataset(sampler: SegmentationSampler, spec: DatasetSpec, first: Example, datasetName: string): void {
  const inputSpec = (sampler as { inputSpec?: InputSpec }).inputSpec;
  if (sampler.numClasses !== spec.numClasses) {
    throw new EvaluationError(
      `the model predicts ${sampler.numClasses} classes but ${datasetName} has ${spec.numClasses}: build the model with numClasses ${spec.numClasses}`,
    );
  }
  if (inputSpec && inputSpec.channels !== spec.channels) {
    throw new EvaluationError(`the model takes ${inputSpec.channels} input channels but ${datasetName} images have ${spec.channels}: build the model with inputChannels ${spec.channels}`);
  }
  if (first.channels !== spec.channels) throw new EvaluationError(`${datasetName} example ${first.id} has ${first.channels} channels but its spec says ${spec.channels}`);
  const f = inputSpec?.downsamplingFactor ?? 1;
  if (first.height % f !== 0 || first.width % f !== 0) {
    throw new EvaluationError(
      `${datasetName} images are ${first.height}×${first.width}, not divisible by the model's down-sampling factor ${f}: ` +
        `crop or resize them to e.g. ${Math.floor(first.height / f) * f}×${Math.floor(first.width / f) * f}`,
    );
  }
  if (first.annotations.length === 0) throw new EvaluationError(`${datasetName} example ${first.id} has no annotations: evaluation needs at least one grader`);
}

/** Each example must match the first one's size and have annotations; named when not. */
export function checkExample(ex: Example, first: Example, datasetName: string): void {
  if (ex.height !== first.height || ex.width !== first.width || ex.channels !== first.channels) {
    throw new EvaluationError(`${datasetName} example ${ex.id} is ${ex.height}×${ex.width}×${ex.channels} but ${first.id} is ${first.height}×${first.width}×${first.channels}: evaluation batches need one size`);
  }
  if (ex.annotations.length === 0) throw new EvaluationError(`${datasetName} example ${ex.id} has no annotations`);
}
