import { popcount32, type ClassMask } from './class-masks.js';
import { checkClasses, checkEmptyPair, type EmptyPair } from './iou.js';
import { setLabelBits, slotTable } from './label-bits.js';
import { checkSameSize, MetricInputError, type LabelMap } from './label-map.js';

export interface DistanceOptions {
  /** Classes whose 1 − IoU is averaged into the distance. Default [1]: the foreground of a binary mask. */
  classes?: number[];
  /** Default 'one'. */
  emptyPair?: EmptyPair;
  /** Pixels carrying this label in any *truth* are left out of every count, e.g. 255. */
  ignoreIndex?: number;
}

/**
 * Samples and truths encoded once as per-class masks, ready for any number of pair distances.
 * The masks live in buffers that the next `encodeSet` call reuses: use them before it.
 */
export interface EncodedSet {
  samples: ClassMask[][];
  truths: ClassMask[][];
  emptyPair: EmptyPair;
}

// Reused across calls so that memory stays flat over an evaluation of many images and a
// Cityscapes image (48 maps × 10 classes × 256×512 bits, ≈ 8 MB) costs no fresh allocation.
let bitsScratch = new Uint32Array(0);
let nonZeroScratch = new Uint32Array(0);

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
  // Every map is encoded in one pass with the ignore label as one more slot; the union of the
  // truths' ignore masks is then cleared from every class mask (a sample's ignore slot goes unused).
  const ignoreIndex = opts.ignoreIndex;
  const slots = ignoreIndex === undefined || classes.includes(ignoreIndex) ? classes : [...classes, ignoreIndex];
  const nWords = (pixels + 31) >>> 5;
  const stride = slots.length * nWords;
  const n = samples.length;
  const maps = [...samples, ...truths];
  const size = maps.length * stride;
  if (bitsScratch.length < size) bitsScratch = new Uint32Array(size);
  else bitsScratch.fill(0, 0, size);
  const bits = bitsScratch;
  const slotOf = slotTable(slots);
  for (let i = 0; i < maps.length; i++) setLabelBits(maps[i]!, slotOf, bits, i * stride, nWords, i < n ? `samples[${i}]` : `truths[${i - n}]`);

  let ignore: Uint32Array | undefined;
  if (ignoreIndex !== undefined) {
    ignore = new Uint32Array(nWords);
    const slot = slots.indexOf(ignoreIndex) * nWords;
    for (let j = n; j < maps.length; j++) {
      const off = j * stride + slot;
      for (let w = 0; w < nWords; w++) ignore[w]! |= bits[off + w]!;
    }
  }
  if (nonZeroScratch.length < maps.length * classes.length * nWords) nonZeroScratch = new Uint32Array(maps.length * classes.length * nWords);
  let nz = 0;
  const encoded = maps.map((_, i) =>
    classes.map((_c, s) => {
      const off = i * stride + s * nWords;
      const mask = finishMask(bits, off, nWords, ignore, nonZeroScratch, nz);
      nz += mask.nonZero.length;
      return mask;
    }),
  );
  return { samples: encoded.slice(0, n), truths: encoded.slice(n), emptyPair };
}

/** Clears ignored pixels from the bitset at `off` and lists its non-zero words from `nz` on. */
function finishMask(bits: Uint32Array, off: number, nWords: number, ignore: Uint32Array | undefined, nonZero: Uint32Array, nz: number): ClassMask {
  let count = 0;
  let end = nz;
  for (let w = 0; w < nWords; w++) {
    let x = bits[off + w]!;
    if (x === 0) continue;
    if (ignore) {
      x &= ~ignore[w]!;
      bits[off + w] = x;
      if (x === 0) continue;
    }
    count += popcount32(x);
    nonZero[end++] = w;
  }
  return { count, words: bits.subarray(off, off + nWords), nonZero: nonZero.subarray(nz, end) };
}
