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
  ignoreLabel?: number;
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
// Cityscapes image (48 maps × 11 slots × 256×512 bits, ≈ 8 MB) costs no fresh allocation. Only
// the words a call set are cleared by the next (the call's masks list them); `scratchDirty` says
// that a call stopped before listing them (bad input), and the next clears everything.
let bitsScratch = new Uint32Array(0);
let listedScratch = new Uint32Array(0);
let lastMasks: ClassMask[][] = [];
let scratchDirty = false;

function takeScratch(size: number): void {
  if (bitsScratch.length < size) {
    bitsScratch = new Uint32Array(size);
    listedScratch = new Uint32Array(size);
  } else if (scratchDirty) {
    bitsScratch.fill(0);
  } else {
    for (const masks of lastMasks) for (const m of masks) for (let i = 0; i < m.nonZero.length; i++) m.words[m.nonZero[i]!] = 0;
  }
  lastMasks = [];
  scratchDirty = true;
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
  // Every map is encoded in one pass with the ignore label as one more slot; the union of the
  // truths' ignore masks is then cleared from every class mask (a sample's ignore slot goes unused).
  const ignoreLabel = opts.ignoreLabel;
  const slots = ignoreLabel === undefined || classes.includes(ignoreLabel) ? classes : [...classes, ignoreLabel];
  const nWords = (pixels + 31) >>> 5;
  const stride = slots.length * nWords;
  const n = samples.length;
  const maps = [...samples, ...truths];
  takeScratch(maps.length * stride);
  const bits = bitsScratch;
  const listed = listedScratch;
  const slotOf = slotTable(slots);
  const listedCount = new Int32Array(maps.length * slots.length);
  for (let i = 0; i < maps.length; i++) {
    const target = { bits, listed, listedCount: listedCount.subarray(i * slots.length, (i + 1) * slots.length), offset: i * stride, nWords };
    setLabelBits(maps[i]!, slotOf, target, i < n ? `samples[${i}]` : `truths[${i - n}]`);
  }

  // The ignore slot is cleared as it is read: it is in no mask, so the next call would not clear it.
  let ignore: Uint32Array | undefined;
  if (ignoreLabel !== undefined) {
    ignore = new Uint32Array(nWords);
    const slot = slots.indexOf(ignoreLabel);
    for (let j = 0; j < maps.length; j++) {
      const off = j * stride + slot * nWords;
      const count = listedCount[j * slots.length + slot]!;
      for (let i = 0; i < count; i++) {
        const w = listed[off + i]!;
        if (j >= n) ignore[w]! |= bits[off + w]!;
        if (slot >= classes.length) bits[off + w] = 0;
      }
    }
  }
  const encoded = maps.map(() => new Array<ClassMask>(classes.length));
  const hashes = new Int32Array(maps.length);
  const distinct: number[] = [];
  const intersections: Int32Array[] = [];
  for (let s = 0; s < classes.length; s++) {
    for (let i = 0; i < maps.length; i++) {
      const mask = finishMask(bits, listed, i * stride + s * nWords, listedCount[i * slots.length + s]!, nWords, ignore);
      hashes[i] = mask.id;
      encoded[i]![s] = mask;
    }
    distinct.push(assignIds(encoded.map((m) => m[s]!), hashes));
    intersections.push(new Int32Array(distinct[s]! * distinct[s]!).fill(-1));
  }
  lastMasks = encoded;
  scratchDirty = false;
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
 * Clears ignored pixels from the bitset at `off` and compacts its list of set words (`count` of
 * them, in `listed` at `off`) to the non-zero ones. The mask's id holds a hash of its words until
 * assignIds replaces it.
 */
function finishMask(bits: Uint32Array, listed: Uint32Array, off: number, count: number, nWords: number, ignore: Uint32Array | undefined): ClassMask {
  let pixels = 0;
  let nnz = 0;
  let hash = 0;
  for (let i = 0; i < count; i++) {
    const w = listed[off + i]!;
    let x = bits[off + w]!;
    if (ignore) {
      x &= ~ignore[w]!;
      bits[off + w] = x;
      if (x === 0) continue;
    }
    pixels += popcount32(x);
    listed[off + nnz++] = w;
    hash = Math.imul(hash ^ x, 0x9e3779b1) + w;
  }
  return { count: pixels, words: bits.subarray(off, off + nWords), nonZero: listed.subarray(off, off + nnz), id: hash | 0 };
}
