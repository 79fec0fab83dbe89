import { type ClassMask } from './class-masks.js';
import { maskDistance, type EmptyPair } from './iou.js';

/** d(x_i, y_j) = mean over classes of 1 − IoU, as a row-major rows × cols matrix. */
export function distanceMatrix(xs: readonly ClassMask[][], ys: readonly ClassMask[][], emptyPair: EmptyPair, symmetric = false): Float64Array {
  const out = new Float64Array(xs.length * ys.length);
  for (let i = 0; i < xs.length; i++) {
    for (let j = symmetric ? i : 0; j < ys.length; j++) {
      const d = symmetric && i === j ? selfDistance(xs[i]!, emptyPair) : maskDistance(xs[i]!, ys[j]!, emptyPair);
      out[i * ys.length + j] = d;
      if (symmetric) out[j * ys.length + i] = d;
    }
  }
  return out;
}

/** d(x, x): 0, or NaN under 'nan' when every class is absent. */
function selfDistance(x: readonly ClassMask[], emptyPair: EmptyPair): number {
  if (emptyPair === 'one') return 0;
  return x.some((m) => m.count > 0) ? 0 : NaN;
}
