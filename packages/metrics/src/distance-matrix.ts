import { applyIgnore, rawClassMasks, type ClassMask } from './class-masks.js';
import { checkClasses, checkEmptyPair, maskDistance, type EmptyPair } from './iou.js';
import { checkSameSize, MetricInputError, type LabelMap } from './label-map.js';

export interface DistanceOptions {
  /** Classes whose 1 − IoU is averaged into the distance. Default [1]: the foreground of a binary mask. */
  classes?: number[];
  /** Default 'one'. */
  emptyPair?: EmptyPair;
  /** Pixels carrying this label in any *truth* are left out of every count, e.g. 255. */
  ignoreIndex?: number;
}

/** Samples and truths encoded once as per-class masks, ready for any number of pair distances. */
export interface EncodedSet {
  samples: ClassMask[][];
  truths: ClassMask[][];
  emptyPair: EmptyPair;
}

export function encodeSet(samples: readonly LabelMap[], truths: readonly LabelMap[], opts: DistanceOptions): EncodedSet {
  const classes = checkClasses(opts.classes ?? [1]);
  const emptyPair = checkEmptyPair(opts.emptyPair ?? 'one');
  const pixels = checkSameSize(samples, 'samples');
  checkSameSize(truths, 'truths');
  const s0 = samples[0]!;
  const t0 = truths[0]!;
  if (s0.height !== t0.height || s0.width !== t0.width) {
    throw new MetricInputError(`samples are ${s0.height}×${s0.width} but truths are ${t0.height}×${t0.width}: they must share one size`);
  }
  // Truths are encoded with the ignore label as one more class; the union of those masks is the
  // ignore mask, cleared from every other mask afterwards (one pass over each map's pixels).
  const ignoreIndex = opts.ignoreIndex;
  const truthClasses = ignoreIndex === undefined || classes.includes(ignoreIndex) ? classes : [...classes, ignoreIndex];
  const rawTruths = truths.map((m, i) => rawClassMasks(m, truthClasses, `truths[${i}]`));
  let ignore: Uint32Array | undefined;
  if (ignoreIndex !== undefined) {
    const slot = truthClasses.indexOf(ignoreIndex);
    ignore = new Uint32Array((pixels + 31) >>> 5);
    for (const t of rawTruths) {
      const m = t[slot]!;
      for (let i = 0; i < m.nonZero.length; i++) ignore[m.nonZero[i]!]! |= m.words[m.nonZero[i]!]!;
    }
  }
  return {
    samples: samples.map((m, i) => applyIgnore(rawClassMasks(m, classes, `samples[${i}]`), ignore)),
    truths: rawTruths.map((t) => applyIgnore(t.slice(0, classes.length), ignore)),
    emptyPair,
  };
}

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
