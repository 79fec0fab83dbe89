import * as tf from '@tensorflow/tfjs-core';
import type { Example, IndexedDataset } from './example.js';
import { SeededRandom } from '@probunet/core/random';

export interface BatchOptions {
  batchSize: number;
  /** Shuffle with this seed (a new order per epoch); omit for the stored order. */
  shuffleSeed?: number;
  /** Passes over the data; default 1. Infinity for an endless stream. */
  epochs?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropRemainder?: boolean;
}

/** Groups an indexed dataset into batches of examples, optionally shuffled anew each epoch. */
export async function* batches(dataset: IndexedDataset, options: BatchOptions): AsyncGenerator<Example[]> {
  const { batchSize, shuffleSeed, epochs = 1, dropRemainder = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: dataset.length }, (_, i) => i);
    if (shuffleSeed !== undefined) SeededRandom.derive(shuffleSeed, 3, epoch).shuffle(order);
    for (let start = 0; start < order.length; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      if (idx.length < batchSize && dropRemainder) break;
      yield await Promise.all(idx.map((i) => dataset.get(i)));
    }
  }
}

/**
 * Keeps up to `depth` items of an async iterable computed ahead of the consumer, so loading and
 * decoding overlap with training.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, depth = 2): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Array<Promise<IteratorResult<T>>> = [];
  try {
    for (let i = 0; i < depth; i++) queue.push(it.next());
    for (;;) {
      const r = await queue.shift()!;
      if (r.done) return;
      queue.push(it.next());
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/**
 * Stacks examples into tensors: images float32 [B,H,W,C] and labels int32 [B,A,H,W], A the number
 * of annotations per example (all examples must have the same). The caller owns both tensors.
 */
export function toTensors(examples: readonly Example[]): { images: tf.Tensor4D; labels: tf.Tensor4D } {
  if (examples.length === 0) throw new RangeError('toTensors needs at least one example');
  const { height: h, width: w, channels: c } = examples[0]!;
  const a = examples[0]!.annotations.length;
  const images = new Float32Array(examples.length * h * w * c);
  const labels = new Int32Array(examples.length * a * h * w);
  examples.forEach((ex, b) => {
    if (ex.height !== h || ex.width !== w || ex.channels !== c) {
      throw new RangeError(`example ${ex.id} is ${ex.height}×${ex.width}×${ex.channels}, the batch is ${h}×${w}×${c}`);
    }
    if (ex.annotations.length !== a) {
      throw new RangeError(`example ${ex.id} has ${ex.annotations.length} annotations, the batch has ${a}: every image needs the same number of graders`);
    }
    images.set(ex.image, b * h * w * c);
    ex.annotations.forEach((ann, k) => labels.set(ann, (b * a + k) * h * w));
  });
  return {
    images: tf.tensor4d(images, [examples.length, h, w, c]),
    labels: tf.tensor4d(labels, [examples.length, a, h, w], 'int32'),
  };
}
