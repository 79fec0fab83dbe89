import { intersectionCount, type ClassMask } from './class-masks.js';
import type { EncodedSet } from './encoded-set.js';
import { iouOfCounts } from './iou.js';

/**
 * d(x_i, y_j) = mean over classes of 1 − IoU (classes with NaN IoU skipped; NaN when none is
 * left), as a row-major rows × cols matrix. `xs` and `ys` are maps of `set`, one mask per class.
 */
export function distanceMatrix(set: EncodedSet, xs: readonly ClassMask[][], ys: readonly ClassMask[][], symmetric = false): Float64Array {
  const out = new Float64Array(xs.length * ys.length);
  for (let i = 0; i < xs.length; i++) {
    for (let j = symmetric ? i : 0; j < ys.length; j++) {
      const d = symmetric && i === j ? selfDistance(set, xs[i]!) : pairDistance(set, xs[i]!, ys[j]!);
      out[i * ys.length + j] = d;
      if (symmetric) out[j * ys.length + i] = d;
    }
  }
  return out;
}

function pairDistance(set: EncodedSet, a: readonly ClassMask[], b: readonly ClassMask[]): number {
  let sum = 0;
  let n = 0;
  for (let c = 0; c < a.length; c++) {
    const ma = a[c]!;
    const mb = b[c]!;
    const v = iouOfCounts(sharedIntersection(set, c, ma, mb), ma.count, mb.count, set.emptyPair);
    if (Number.isNaN(v)) continue;
    sum += 1 - v;
    n++;
  }
  return n === 0 ? NaN : sum / n;
}

/** |A ∩ B| of class slot c, counted once per pair of distinct masks (ids) of the set. */
function sharedIntersection(set: EncodedSet, c: number, a: ClassMask, b: ClassMask): number {
  if (a.id === b.id) return a.count;
  const distinct = set.distinct[c]!;
  const counts = set.intersections[c]!;
  const k = a.id * distinct + b.id;
  let v = counts[k]!;
  if (v < 0) {
    v = intersectionCount(a, b);
    counts[k] = v;
    counts[b.id * distinct + a.id] = v;
  }
  return v;
}

/** d(x, x): 0, or NaN under 'nan' when every class is absent. */
function selfDistance(set: EncodedSet, x: readonly ClassMask[]): number {
  if (set.emptyPair === 'one') return 0;
  return x.some((m) => m.count > 0) ? 0 : NaN;
}
