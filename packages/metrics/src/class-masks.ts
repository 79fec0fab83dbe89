import { setLabelBits, slotTable } from './label-bits.js';
import { type LabelMap } from './label-map.js';

/**
 * One class of one map as a bitset, with the indices of its non-zero 32-pixel words so that
 * intersections only visit words where the class occurs. Counting per-class intersections this way
 * costs O(occupied words), not O(pixels), per pair of maps.
 */
export interface ClassMask {
  count: number;
  words: Uint32Array;
  nonZero: Uint32Array;
  /**
   * Among the masks of one class in an encoded set (encodeSet): equal ids ⇔ identical masks, so
   * that identical masks share their intersection counts. -1 for a mask encoded on its own.
   */
  id: number;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Encodes `map` as one mask per entry of `classes`, leaving out ignored pixels. Validates labels
 * (non-negative integers) on the way; unsigned integer typed arrays need no per-pixel check.
 */
export function classMasks(map: LabelMap, classes: readonly number[], ignore: Uint32Array | undefined, what: string): ClassMask[] {
  return applyIgnore(rawClassMasks(map, classes, what), ignore);
}

/** Clears ignored pixels from masks in place and recounts them. */
export function applyIgnore(masks: ClassMask[], ignore: Uint32Array | undefined): ClassMask[] {
  if (!ignore) return masks;
  return masks.map((m) => {
    const words = m.words;
    let count = 0;
    let nnz = 0;
    for (let i = 0; i < m.nonZero.length; i++) {
      const k = m.nonZero[i]!;
      const x = (words[k]! &= ~ignore[k]!);
      if (x !== 0) {
        count += popcount32(x);
        m.nonZero[nnz++] = k;
      }
    }
    return { count, words, nonZero: m.nonZero.subarray(0, nnz), id: -1 };
  });
}

/** Masks of `classes` in `map`, ignoring nothing. */
export function rawClassMasks(map: LabelMap, classes: readonly number[], what: string): ClassMask[] {
  const nWords = (map.height * map.width + 31) >>> 5;
  const bits = new Uint32Array(classes.length * nWords);
  const target = { bits, listed: new Uint32Array(bits.length), listedCount: new Int32Array(classes.length), offset: 0, nWords };
  setLabelBits(map, slotTable(classes), target, what);
  return classes.map((_, i) => maskOf(bits.subarray(i * nWords, (i + 1) * nWords)));
}

/** Count and non-zero word list of a bitset. */
function maskOf(words: Uint32Array): ClassMask {
  let count = 0;
  let nnz = 0;
  for (let k = 0; k < words.length; k++) {
    const x = words[k]!;
    if (x !== 0) {
      nnz++;
      count += popcount32(x);
    }
  }
  const nonZero = new Uint32Array(nnz);
  let j = 0;
  for (let k = 0; k < words.length; k++) if (words[k] !== 0) nonZero[j++] = k;
  return { count, words, nonZero, id: -1 };
}

/** |A ∩ B| for two masks of the same class. */
export function intersectionCount(a: ClassMask, b: ClassMask): number {
  const small = a.nonZero.length <= b.nonZero.length ? a : b;
  const large = small === a ? b : a;
  const idx = small.nonZero;
  const sw = small.words;
  const lw = large.words;
  let n = 0;
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    const x = sw[k]! & lw[k]!;
    if (x !== 0) n += popcount32(x);
  }
  return n;
}
