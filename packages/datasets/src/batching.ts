import * as tf from '@tensorflow/tfjs-core';
import { augmentExample, type AugmentOptions } from './augment.js';
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
  /**
   * Start at this batch (0-based, counted across epochs): a run resumed at step s yields exactly the
   * batches an uninterrupted run would from its step s on, without reading the skipped ones. Default 0.
   */
  startStep?: number;
  /**
   * Augment example i in epoch e with `SeededRandom.derive(seed, 7, i, e)`: a function of the
   * example and the epoch only, so a resumed run sees the same augmented data.
   */
  augment?: { options: AugmentOptions; seed: number };
}

/** Groups an indexed dataset into batches of examples, optionally shuffled anew each epoch. */
export async function* batches(dataset: IndexedDataset, options: BatchOptions): AsyncGenerator<Example[]> {
  const { batchSize, shuffleSeed, epochs = 1, dropRemainder = false, startStep = 0, augment } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(startStep) || startStep < 0) throw new RangeError(`startStep must be an integer ≥ 0, got ${startStep}`);
  const perEpoch = dropRemainder ? Math.floor(dataset.length / batchSize) : Math.ceil(dataset.length / batchSize);
  if (perEpoch === 0) {
    if (dataset.length > 0 && epochs > 0) {
      throw new RangeError(`batchSize ${batchSize} is larger than the ${dataset.length} examples and dropRemainder is set: no batch is whole; lower batchSize`);
    }
    return;
  }
  const load = async (i: number, epoch: number): Promise<Example> => {
    const ex = await dataset.get(i);
    return augment ? augmentExample(ex, SeededRandom.derive(augment.seed, 7, i, epoch), augment.options) : ex;
  };
  for (let epoch = Math.floor(startStep / perEpoch); epoch < epochs; epoch++) {
    const order = Array.from({ length: dataset.length }, (_, i) => i);
    if (shuffleSeed !== undefined) SeededRandom.derive(shuffleSeed, 3, epoch).shuffle(order);
    const first = epoch === Math.floor(startStep / perEpoch) ? startStep % perEpoch : 0;
    for (let k = first; k < perEpoch; k++) {
      const idx = order.slice(k * batchSize, (k + 1) * batchSize);
      yield await Promise.all(idx.map((i) => load(i, epoch)));
    }
  }
}

/**
 * Stacks each batch of examples into tensors (see `toTensors`) when the consumer asks for it, so
 * that a consumer that stops early (`fit` reaching its step count) leaves no tensor behind. The
 * consumer owns each yielded pair.
 */
export async function* tensorBatches(source: AsyncIterable<Example[]>): AsyncGenerator<{ images: tf.Tensor4D; labels: tf.Tensor4D }> {
  for await (const examples of source) yield toTensors(examples);
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
