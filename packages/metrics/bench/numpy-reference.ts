/**
 * Our GED against a numpy reference (ged_numpy.py: float32 masks, all pairwise intersections as
 * one BLAS matrix product) on the same maps in the same run. The maps go to a temporary file
 * image by image as they are generated, so neither side holds more than one image in memory
 * beyond numpy's read of the file.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generalizedEnergyDistance, type EnergyDistanceOptions } from '../src/index.js';
import type { Image } from './workloads.js';

const python = '/usr/bin/python3'; // Debian's interpreter: python3-numpy installs for it
const script = new URL('ged_numpy.py', import.meta.url).pathname;

/** Whether numpy imports; when it does not and `install` is set, installs it from Debian first. */
export function ensureNumpy(install: boolean, log: (s: string) => void): boolean {
  const has = () => spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
  if (has() || !install) return has();
  log('installing numpy from Debian (python3-numpy, OpenBLAS)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'python3-numpy', 'libopenblas0-pthread'], { stdio: 'inherit', env });
  return has();
}

export interface NumpyComparison {
  images: number;
  oursSeconds: number;
  numpySeconds: number;
  /** numpySeconds / oursSeconds: above 1, ours is faster. */
  numpyOverOurs: number;
  /** Largest |GED_ours − GED_numpy| over the images (NaN matching NaN counts as 0). */
  maxAbsDifference: number;
  numpy?: string;
  blas?: string;
}

/**
 * Times `generalizedEnergyDistance`, one call per image, on `images` images from `makeImage`, then
 * ged_numpy.py on the same maps. `binary`: the maps are 0/1 and classes [1], so numpy casts the maps
 * directly (the reference as the issue states it).
 */
export function compareWithNumpy(images: number, makeImage: () => Image, opts: EnergyDistanceOptions, binary: boolean): NumpyComparison | { failed: string } {
  const dir = mkdtempSync(join(tmpdir(), 'probunet-ged-'));
  try {
    const dataFd = openSync(join(dir, 'maps.u8'), 'w');
    const weightsFd = openSync(join(dir, 'weights.f64'), 'w');
    const ours = new Float64Array(images);
    let oursMs = 0;
    let shape = { samples: 0, truths: 0, pixels: 0 };
    let weighted = false;
    for (let i = 0; i < images; i++) {
      const { samples, truths, weights } = makeImage();
      const t0 = performance.now();
      // ged_numpy.py skips NaN pairs in every term: compare like with like.
      const same: EnergyDistanceOptions = { nanPairs: 'skip', ...opts };
      ours[i] = generalizedEnergyDistance(samples, truths, weights ? { ...same, truthWeights: weights } : same).ged;
      oursMs += performance.now() - t0;
      shape = { samples: samples.length, truths: truths.length, pixels: samples[0]!.height * samples[0]!.width };
      for (const m of [...samples, ...truths]) writeSync(dataFd, m.data as Uint8Array);
      if (weights) writeSync(weightsFd, new Float64Array(weights));
      weighted = weights !== undefined;
    }
    closeSync(dataFd);
    closeSync(weightsFd);
    const args = [
      script,
      ...['--data', join(dir, 'maps.u8'), '--images', String(images), '--out', join(dir, 'ged.f64')],
      ...['--samples', String(shape.samples), '--truths', String(shape.truths), '--pixels', String(shape.pixels)],
      ...['--classes', (opts.classes ?? [1]).join(','), '--empty-pair', opts.emptyPair ?? 'one'],
      ...(opts.ignoreLabel !== undefined ? ['--ignore', String(opts.ignoreLabel)] : []),
      ...(weighted ? ['--weights', join(dir, 'weights.f64')] : []),
      ...(binary ? ['--binary'] : []),
    ];
    const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.status !== 0) return { failed: `ged_numpy.py: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').at(-1)}` };
    const py = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { numpy: string; blas: string; seconds: number };
    const theirs = readFileSync(join(dir, 'ged.f64'));
    let maxAbsDifference = 0;
    for (let i = 0; i < images; i++) {
      const a = ours[i]!;
      const b = theirs.readDoubleLE(8 * i);
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const diff = Math.abs(a - b);
      maxAbsDifference = Number.isNaN(diff) ? Infinity : Math.max(maxAbsDifference, diff);
    }
    const oursSeconds = oursMs / 1000;
    return { images, oursSeconds, numpySeconds: py.seconds, numpyOverOurs: py.seconds / oursSeconds, maxAbsDifference, numpy: py.numpy, blas: py.blas };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
