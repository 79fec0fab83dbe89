/**
 * Throughput of the metrics on the two evaluation workloads of the field, on synthetic maps of the
 * real sizes (workloads.ts), and our GED against a numpy reference on the same maps in the same run
 * (numpy-reference.ts, ged_numpy.py). Prints one JSON object.
 *   LIDC:       ≈2,000 test images × 16 samples × 4 graders, 128×128, foreground class, emptyPair one
 *   Cityscapes: 500 val images × 16 samples × 32 weighted modes, 256×512, 10 classes, emptyPair nan
 *   vs numpy:   500 LIDC images (15 % empty masks, issue 19's workload) and 20 Cityscapes images
 * Options: --quick (a tenth of the images), --images-lidc N, --images-cityscapes N,
 * --numpy-images-lidc N, --numpy-images-cityscapes N (0: no comparison), --no-numpy-install
 * (compare only when numpy is already there; otherwise python3-numpy is installed from Debian).
 */
import { performance } from 'node:perf_hooks';
import { generalizedEnergyDistance, hungarianMatchedIoU } from '../src/index.js';
import { compareWithNumpy, ensureNumpy } from './numpy-reference.js';
import { CITY_CLASSES, cityscapesImage, lidcImage, seededRandom } from './workloads.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argNum = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : quick ? Math.ceil(dflt / 10) : dflt;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const cityscapesOptions = { classes: CITY_CLASSES, emptyPair: 'nan', ignoreLabel: 255 } as const;
const rnd = seededRandom(12345);
const nLidc = argNum('--images-lidc', 2000);
const nCity = argNum('--images-cityscapes', 500);
let lidcMs = 0;
let hmMs = 0;
for (let i = 0; i < nLidc; i++) {
  const { samples, truths } = lidcImage(rnd);
  lidcMs += time(() => generalizedEnergyDistance(samples, truths))[1];
  hmMs += time(() => hungarianMatchedIoU(samples, truths))[1];
}
let cityMs = 0;
for (let i = 0; i < nCity; i++) {
  const { samples, truths, weights } = cityscapesImage(rnd);
  cityMs += time(() => generalizedEnergyDistance(samples, truths, { ...cityscapesOptions, truthWeights: weights }))[1];
}

const nNumpyLidc = argNum('--numpy-images-lidc', 500);
const nNumpyCity = argNum('--numpy-images-cityscapes', 20);
const noInstall = args.includes('--no-numpy-install');
let numpy: Record<string, unknown>;
if (nNumpyLidc + nNumpyCity === 0) numpy = { skipped: 'no images asked for' };
else if (!ensureNumpy(!noInstall, log)) numpy = { failed: noInstall ? 'numpy is not installed (--no-numpy-install)' : 'python3-numpy could not be installed' };
else {
  const r = seededRandom(19);
  numpy = {
    lidc:
      nNumpyLidc > 0
        ? { samples: 16, graders: 4, emptyMasks: 0.15, ...compareWithNumpy(nNumpyLidc, () => lidcImage(r, { pEmptySample: 0.15, pEmptyTruth: 0.15 }), {}, true) }
        : undefined,
    cityscapes: nNumpyCity > 0 ? compareWithNumpy(nNumpyCity, () => cityscapesImage(r), cityscapesOptions, false) : undefined,
  };
}

const result = {
  benchmark: '@probunet/metrics',
  date: new Date().toISOString(),
  node: process.version,
  lidc: {
    images: nLidc,
    samples: 16,
    graders: 4,
    size: [128, 128],
    gedSeconds: lidcMs / 1000,
    gedImagesPerSecond: nLidc / (lidcMs / 1000),
    hungarianSeconds: hmMs / 1000,
    hungarianImagesPerSecond: nLidc / (hmMs / 1000),
  },
  cityscapes: {
    images: nCity,
    samples: 16,
    modes: 32,
    classes: CITY_CLASSES.length,
    size: [256, 512],
    gedSeconds: cityMs / 1000,
    gedImagesPerSecond: nCity / (cityMs / 1000),
  },
  numpy,
};
console.log(JSON.stringify(result, null, 2));
