/**
 * Throughput of the metrics on the two evaluation workloads of the field, on synthetic maps of the
 * real sizes. Prints one JSON object. Options: --quick (a tenth of the images), --images-lidc N,
 * --images-cityscapes N.
 *   LIDC:       ≈2,000 test images × 16 samples × 4 graders, 128×128, foreground class, emptyPair one
 *   Cityscapes: 500 val images × 16 samples × 32 weighted modes, 256×512, 10 classes, emptyPair nan
 */
import { performance } from 'node:perf_hooks';
import { CITYSCAPES_FLIPS, generalizedEnergyDistance, hungarianMatchedIoU, type LabelMap } from '../src/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argNum = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : quick ? Math.ceil(dflt / 10) : dflt;
};

let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};

function disc(h: number, w: number, cy: number, cx: number, r: number, out = new Uint8Array(h * w)): Uint8Array {
  for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(h, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(w, Math.ceil(cx + r)); x++) {
      if ((y - cy) ** 2 + (x - cx) ** 2 < r * r) out[y * w + x] = 1;
    }
  }
  return out;
}

function lidcImage(): { samples: LabelMap[]; truths: LabelMap[] } {
  const h = 128;
  const w = 128;
  const make = (pEmpty: number): LabelMap => ({
    height: h,
    width: w,
    data: rnd() < pEmpty ? new Uint8Array(h * w) : disc(h, w, 64 + 6 * (rnd() - 0.5), 64 + 6 * (rnd() - 0.5), 4 + 10 * rnd()),
  });
  return { samples: Array.from({ length: 16 }, () => make(0.2)), truths: Array.from({ length: 4 }, () => make(0.3)) };
}

const CITY_CLASSES = [0, 1, 8, 11, 13, 19, 20, 21, 22, 23];

function cityscapesImage(): { samples: LabelMap[]; truths: LabelMap[]; weights: number[] } {
  const h = 256;
  const w = 512;
  // A scene: road bottom, sidewalk band, vegetation top, a few cars and persons, other classes elsewhere.
  const base = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) base[y * w + x] = y > 170 ? 0 : y > 140 ? 1 : y < 60 ? 8 : 2;
  }
  for (let k = 0; k < 6; k++) {
    const m = disc(h, w, 120 + 40 * rnd(), 512 * rnd(), 10 + 20 * rnd());
    const cls = k % 2 ? 13 : 11;
    for (let i = 0; i < m.length; i++) if (m[i]) base[i] = cls;
  }
  const flip = (mode: number, noise: number): Uint8Array => {
    const out = Uint8Array.from(base);
    for (let i = 0; i < out.length; i++) {
      CITYSCAPES_FLIPS.forEach((f, b) => {
        if ((mode >> b) & 1 && out[i] === f.from) out[i] = f.to;
      });
      if (noise > 0 && rnd() < noise) out[i] = CITY_CLASSES[Math.floor(rnd() * CITY_CLASSES.length)]!;
    }
    return out;
  };
  const truths: LabelMap[] = [];
  const weights: number[] = [];
  for (let mode = 0; mode < 32; mode++) {
    truths.push({ height: h, width: w, data: flip(mode, 0) });
    weights.push(CITYSCAPES_FLIPS.reduce((p, f, b) => p * ((mode >> b) & 1 ? f.probability : 1 - f.probability), 1));
  }
  const samples = Array.from({ length: 16 }, () => ({ height: h, width: w, data: flip(Math.floor(rnd() * 32), 0.02) }));
  return { samples, truths, weights };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const nLidc = argNum('--images-lidc', 2000);
const nCity = argNum('--images-cityscapes', 500);
let lidcMs = 0;
let hmMs = 0;
for (let i = 0; i < nLidc; i++) {
  const { samples, truths } = lidcImage();
  lidcMs += time(() => generalizedEnergyDistance(samples, truths))[1];
  hmMs += time(() => hungarianMatchedIoU(samples, truths))[1];
}
let cityMs = 0;
for (let i = 0; i < nCity; i++) {
  const { samples, truths, weights } = cityscapesImage();
  cityMs += time(() => generalizedEnergyDistance(samples, truths, { classes: CITY_CLASSES, emptyPair: 'nan', ignoreIndex: 255, truthWeights: weights }))[1];
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
};
console.log(JSON.stringify(result, null, 2));
