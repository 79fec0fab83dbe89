/**
 * Examples per second of each source, decoding included, on fixture trees in the real formats
 * (written to a temporary folder first, not timed). Prints one JSON object. --quick: fewer images.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { augmented, createSyntheticCityscapes, createSyntheticLidc, prefetch, type IndexedDataset } from '../src/index.js';
import { openCityscapes, openLidc, openLidcPickle, writeCityscapesFixture, writeLidcFixture, writeLidcPickleFixture } from '../src/node/index.js';

const quick = process.argv.includes('--quick');
const dir = await mkdtemp(join(tmpdir(), 'probunet-data-bench-'));
await writeLidcFixture(dir, { patients: quick ? 2 : 8, cropsPerPatient: quick ? 2 : 8 });
await writeCityscapesFixture(join(dir, 'cityscapes'), { cities: { train: ['aachen', 'bochum'], val: ['frankfurt'] } });
await writeLidcPickleFixture(join(dir, 'lidc.pickle'), { entries: quick ? 8 : 64 });

/** Examples per second over `passes` passes, opening (listing, or decoding a whole pickle) included. */
async function rate(open: () => IndexedDataset | Promise<IndexedDataset>, passes: number): Promise<{ examples: number; seconds: number; examplesPerSecond: number }> {
  const t0 = performance.now();
  const ds = await open();
  let n = 0;
  for (let p = 0; p < passes; p++) {
    for await (const ex of prefetch(ds, 4)) {
      if (ex.annotations.length > 0) n++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return { examples: n, seconds, examplesPerSecond: n / seconds };
}

const result = {
  benchmark: '@probunet/datasets',
  date: new Date().toISOString(),
  'synthetic-lidc (64², 4 graders)': await rate(() => createSyntheticLidc({ count: quick ? 50 : 500, size: 64 }), 1),
  'synthetic-cityscapes (256×512)': await rate(() => createSyntheticCityscapes({ count: quick ? 5 : 50, height: 256, width: 512 }), 1),
  'lidc PNG crops (180² → 128², 4 graders)': await rate(() => openLidc({ root: dir, split: 'train' }), quick ? 1 : 4),
  'lidc pickle (128², 4 graders)': await rate(() => openLidcPickle({ file: join(dir, 'lidc.pickle') }), quick ? 1 : 4),
  'cityscapes PNG (1024×2048 → 256×512, flips)': await rate(() => openCityscapes({ root: join(dir, 'cityscapes'), split: 'train' }), quick ? 1 : 3),
  'cityscapes + augmentation': await rate(
    async () => augmented(await openCityscapes({ root: join(dir, 'cityscapes'), split: 'train' }), { rotationDegrees: 15, scale: [0.8, 1.2], crop: [224, 448], gamma: [0.8, 1.2] }),
    quick ? 1 : 3,
  ),
};
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify(result, null, 2));
