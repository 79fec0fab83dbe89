import { SeededRandom } from '@probunet/core';
import { augmentExample, type AugmentOptions, type Example, type IndexedDataset } from '@probunet/datasets';
import { UsageError } from './cli-errors.js';

/** What `--augment` turns on: the authors' kind of geometric jitter, mild. */
export const CLI_AUGMENTATION: AugmentOptions = { mirror: true, rotationDegrees: 10, scale: [0.9, 1.1] };

/**
 * The training batches from step `startStep` on, endlessly: epoch e visits the examples in the
 * order SeededRandom.derive(seed, 3, e) shuffles them to (as `batches` from @probunet/datasets
 * does), whole batches only, and augments example i in epoch e with SeededRandom.derive(seed, 7, i, e).
 * Everything is a function of the step, so a resumed run sees exactly the batches an uninterrupted
 * run would have, without reading the skipped ones.
 */
// TODO(issue 13): a `startBatch` option on `batches` in @probunet/datasets would make this a one-liner.
export async function* trainingBatches(
  dataset: IndexedDataset,
  options: { batchSize: number; seed: number; augment: boolean; startStep: number },
): AsyncGenerator<Example[]> {
  const { batchSize, seed } = options;
  const perEpoch = Math.floor(dataset.length / batchSize);
  if (perEpoch === 0) throw new UsageError(`--batch ${batchSize} is larger than the ${dataset.length} training examples`);
  let order: number[] = [];
  let orderEpoch = -1;
  for (let step = options.startStep; ; step++) {
    const epoch = Math.floor(step / perEpoch);
    if (epoch !== orderEpoch) {
      order = SeededRandom.derive(seed, 3, epoch).shuffle(Array.from({ length: dataset.length }, (_, i) => i));
      orderEpoch = epoch;
    }
    const start = (step % perEpoch) * batchSize;
    const idx = order.slice(start, start + batchSize);
    yield await Promise.all(
      idx.map(async (i) => {
        const ex = await dataset.get(i);
        return options.augment ? augmentExample(ex, SeededRandom.derive(seed, 7, i, epoch), CLI_AUGMENTATION) : ex;
      }),
    );
  }
}
