import { badLabel, type LabelMap } from './label-map.js';

/**
 * Where setLabelBits writes one map: slot s's bitset is `bits[offset + s·nWords …)`, nWords words,
 * zero on entry; the indices of the words it sets go, ascending, to `listed` at the same offsets,
 * `listedCount[s]` of them (zero on entry), so that nobody needs to scan or clear whole bitsets.
 */
export interface BitsTarget {
  bits: Uint32Array;
  listed: Uint32Array;
  listedCount: Int32Array;
  offset: number;
  nWords: number;
}

/**
 * Sets, for every pixel p of `map` whose label v has `slotOf[v] = s ≥ 0`, bit p of slot s's
 * bitset in `target`. `slotOf` comes from `slotTable`. Labels are validated on the way
 * (non-negative integers); unsigned integer typed arrays need no per-pixel check.
 *
 * Byte maps (`Uint8Array`, `Uint8ClampedArray`), the common case, are read four labels at a time,
 * and a 32-pixel block of one label sets its whole word at once, or nothing when that label has no
 * slot: binary masks are mostly background and segmentations mostly large regions, so most blocks
 * skip the per-pixel loop.
 */
export function setLabelBits(map: LabelMap, slotOf: Int32Array, target: BitsTarget, what: string): void {
  const d = map.data;
  const pixels = map.height * map.width;
  if ((d instanceof Uint8Array || d instanceof Uint8ClampedArray) && d.byteOffset % 4 === 0) {
    setByteLabelBits(d, pixels, slotOf, target);
    return;
  }
  const { bits, listed, listedCount, offset, nWords } = target;
  const unsigned = d instanceof Uint8Array || d instanceof Uint8ClampedArray || d instanceof Uint16Array || d instanceof Uint32Array;
  const signedInt = d instanceof Int8Array || d instanceof Int16Array || d instanceof Int32Array;
  const maxLabel = slotOf.length - 1;
  for (let p = 0; p < pixels; p++) {
    const v = d[p]!;
    if (!unsigned && (signedInt ? v < 0 : !(v >= 0 && Number.isInteger(v)))) throw badLabel(v, p, what);
    if (v > maxLabel) continue;
    const s = slotOf[v]!;
    if (s < 0) continue;
    const at = offset + s * nWords;
    const k = p >>> 5;
    const count = listedCount[s]!;
    if (count === 0 || listed[at + count - 1] !== k) {
      listed[at + count] = k;
      listedCount[s] = count + 1;
    }
    bits[at + k]! |= 1 << (p & 31);
  }
}

/** A slot table covering every byte label (-1: no slot), so byte maps need no bounds check per pixel. */
export function slotTable(classes: readonly number[]): Int32Array {
  const slotOf = new Int32Array(Math.max(256, Math.max(...classes) + 1)).fill(-1);
  classes.forEach((c, i) => (slotOf[c] = i));
  return slotOf;
}

function setByteLabelBits(d: Uint8Array | Uint8ClampedArray, pixels: number, slot: Int32Array, target: BitsTarget): void {
  const { bits, listed, listedCount, offset, nWords } = target;
  const blocks = pixels >>> 5;
  const quads = new Uint32Array(d.buffer, d.byteOffset, blocks * 8);
  for (let k = 0; k < blocks; k++) {
    const q = k * 8;
    const w0 = quads[q]!;
    if (
      w0 === quads[q + 1] &&
      w0 === quads[q + 2] &&
      w0 === quads[q + 3] &&
      w0 === quads[q + 4] &&
      w0 === quads[q + 5] &&
      w0 === quads[q + 6] &&
      w0 === quads[q + 7] &&
      w0 === Math.imul(w0 & 0xff, 0x01010101) >>> 0
    ) {
      const s = slot[w0 & 0xff]!;
      if (s >= 0) {
        const at = offset + s * nWords;
        const count = listedCount[s]!;
        bits[at + k] = 0xffffffff;
        listed[at + count] = k;
        listedCount[s] = count + 1;
      }
      continue;
    }
    // A mixed block: four pixels of one label set four bits at once (noise leaves most quads whole).
    for (let j = 0; j < 8; j++) {
      const w = quads[q + j]!;
      if (w === Math.imul(w & 0xff, 0x01010101) >>> 0) {
        const s = slot[w & 0xff]!;
        if (s >= 0) setBits(bits, listed, listedCount, offset + s * nWords, s, k, 0xf << (4 * j));
        continue;
      }
      const p0 = k * 32 + 4 * j;
      for (let b = 0; b < 4; b++) {
        const s = slot[d[p0 + b]!]!;
        if (s >= 0) setBits(bits, listed, listedCount, offset + s * nWords, s, k, 1 << (4 * j + b));
      }
    }
  }
  for (let p = blocks * 32; p < pixels; p++) {
    const s = slot[d[p]!]!;
    if (s >= 0) setBits(bits, listed, listedCount, offset + s * nWords, s, p >>> 5, 1 << (p & 31));
  }
}

/** ORs `mask` into word k of the bitset at `at` (slot s), listing k the first time. */
function setBits(bits: Uint32Array, listed: Uint32Array, listedCount: Int32Array, at: number, s: number, k: number, mask: number): void {
  const count = listedCount[s]!;
  if (count === 0 || listed[at + count - 1] !== k) {
    listed[at + count] = k;
    listedCount[s] = count + 1;
  }
  bits[at + k]! |= mask;
}
