import { distanceMatrix } from './distance-matrix.js';
import { encodeSet, type DistanceOptions } from './encoded-set.js';
import type { LabelMap } from './label-map.js';

/**
 * d(x_i, y_j) = mean over `classes` of 1 − IoU for every pair, row-major xs.length × ys.length,
 * each map encoded once. `ys` play the truths: their ignore pixels are left out of every count.
 * E.g. the nearest mode of each sample.
 */
export function pairwiseDistances(xs: LabelMap[], ys: LabelMap[], opts: DistanceOptions = {}): Float64Array {
  const enc = encodeSet(xs, ys, opts);
  return distanceMatrix(enc, enc.samples, enc.truths);
}
