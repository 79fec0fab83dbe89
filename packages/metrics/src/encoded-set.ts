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
  /** Per class slot: how many distinct masks the set holds (masks' ids are 0 … distinct − 1). */
  distinct: number[];
  /** Per class slot: distinct × distinct intersection counts, -1 until counted. */
  intersections: Int32Array[];
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
  const encoded = maps.map(() => new Array<ClassMask>(classes.length));
  const hashes = new Int32Array(maps.length);
  const distinct: number[] = [];
  const intersections: Int32Array[] = [];
  for (let s = 0; s < classes.length; s++) {
    for (let i = 0; i < maps.length; i++) {
      const mask = finishMask(bits, i * stride + s * nWords, nWords, ignore, nonZeroScratch, nz);
      nz += mask.nonZero.length;
      hashes[i] = mask.id;
      encoded[i]![s] = mask;
    }
    distinct.push(assignIds(encoded.map((m) => m[s]!), hashes));
    intersections.push(new Int32Array(distinct[s]! * distinct[s]!).fill(-1));
  }
  return { samples: encoded.slice(0, n), truths: encoded.slice(n), emptyPair, distinct, intersections };
}

/**
 * Gives identical masks one id, distinct ones 0, 1, …; returns how many are distinct. Evaluation
 * sets repeat masks: Cityscapes' 32 flip modes of one truth share most classes' masks, LIDC
 * graders and samples agree on empty masks. `hashes[i]` is mask i's hash from finishMask.
 */
function assignIds(masks: ClassMask[], hashes: Int32Array): number {
  const byHash = new Map<number, ClassMask[]>();
  let distinct = 0;
  masks.forEach((m, i) => {
    const same = byHash.get(hashes[i]!);
    const twin = same?.find((o) => identical(o, m));
    if (twin) {
      m.id = twin.id;
      return;
    }
    m.id = distinct++;
    if (same) same.push(m);
    else byHash.set(hashes[i]!, [m]);
  });
  return distinct;
}

function identical(a: ClassMask, b: ClassMask): boolean {
  if (a.count !== b.count || a.nonZero.length !== b.nonZero.length) return false;
  for (let i = 0; i < a.nonZero.length; i++) {
    const k = a.nonZero[i]!;
    if (k !== b.nonZero[i] || a.words[k] !== b.words[k]) return false;
  }
  return true;
}

/**
 * Clears ignored pixels from the bitset at `off` and lists its non-zero words from `nz` on. The
 * mask's id holds a hash of its words until assignIds replaces it.
 */
function finishMask(bits: Uint32Array, off: number, nWords: number, ignore: Uint32Array | undefined, nonZero: Uint32Array, nz: number): ClassMask {
  let count = 0;
  let end = nz;
  let hash = 0;
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
    hash = Math.imul(hash ^ x, 0x9e3779b1) + w;
  }
  return { count, words: bits.subarray(off, off + nWords), nonZero: nonZero.subarray(nz, end), id: hash | 0 };
}
