import { badLabel, type LabelMap } from './label-map.js';

/**
 * Sets, for every pixel p of `map` whose label v has `slotOf[v] = s ≥ 0`, bit p of the bitset
 * `bits[offset + s·nWords …)` of nWords words. Those words must be zero. `slotOf` comes from
 * `slotTable`: it covers every byte label, so byte maps need no bounds check per pixel. Labels are validated on the way
 * (non-negative integers); unsigned integer typed arrays need no per-pixel check.
 *
 * Byte maps (`Uint8Array`, `Uint8ClampedArray`), the common case, are read four labels at a time,
 * and a 32-pixel block of one label sets its whole word at once, or nothing when that label has no
 * slot: binary masks are mostly background and segmentations mostly large regions, so most blocks
 * skip the per-pixel loop.
 */
export function setLabelBits(map: LabelMap, slotOf: Int32Array, bits: Uint32Array, offset: number, nWords: number, what: string): void {
  const d = map.data;
  const pixels = map.height * map.width;
  if ((d instanceof Uint8Array || d instanceof Uint8ClampedArray) && d.byteOffset % 4 === 0) {
    setByteLabelBits(d, pixels, slotOf, bits, offset, nWords);
    return;
  }
  const unsigned = d instanceof Uint8Array || d instanceof Uint8ClampedArray || d instanceof Uint16Array || d instanceof Uint32Array;
  const signedInt = d instanceof Int8Array || d instanceof Int16Array || d instanceof Int32Array;
  const maxLabel = slotOf.length - 1;
  for (let p = 0; p < pixels; p++) {
    const v = d[p]!;
    if (!unsigned && (signedInt ? v < 0 : !(v >= 0 && Number.isInteger(v)))) throw badLabel(v, p, what);
    if (v > maxLabel) continue;
    const s = slotOf[v]!;
    if (s >= 0) bits[offset + s * nWords + (p >>> 5)]! |= 1 << (p & 31);
  }
}

/** A slot table covering every byte label (-1: no slot), so byte maps need no bounds check. */
export function slotTable(classes: readonly number[]): Int32Array {
  const slotOf = new Int32Array(Math.max(256, Math.max(...classes) + 1)).fill(-1);
  classes.forEach((c, i) => (slotOf[c] = i));
  return slotOf;
}

function setByteLabelBits(d: Uint8Array | Uint8ClampedArray, pixels: number, slotOf: Int32Array, bits: Uint32Array, offset: number, nWords: number): void {
  const slot = slotOf;
  const blocks = pixels >>> 5;
  const quads = new Uint32Array(d.buffer, d.byteOffset, blocks * 8);
  for (let k = 0; k < blocks; k++) {
    const q = k * 8;
    const w0 = quads[q]!;
    const w1 = quads[q + 1]!;
    const w2 = quads[q + 2]!;
    const w3 = quads[q + 3]!;
    const w4 = quads[q + 4]!;
    const w5 = quads[q + 5]!;
    const w6 = quads[q + 6]!;
    const w7 = quads[q + 7]!;
    if (w0 === w1 && w0 === w2 && w0 === w3 && w0 === w4 && w0 === w5 && w0 === w6 && w0 === w7 && w0 === Math.imul(w0 & 0xff, 0x01010101) >>> 0) {
      const s = slot[w0 & 0xff]!;
      if (s >= 0) bits[offset + s * nWords + k] = 0xffffffff;
      continue;
    }
    // A mixed block: four pixels of one label set four bits at once (noise leaves most quads whole).
    const base = offset + k;
    for (let j = 0; j < 8; j++) {
      const w = quads[q + j]!;
      if (w === Math.imul(w & 0xff, 0x01010101) >>> 0) {
        const s = slot[w & 0xff]!;
        if (s >= 0) bits[base + s * nWords]! |= 0xf << (4 * j);
        continue;
      }
      const p0 = k * 32 + 4 * j;
      for (let b = 0; b < 4; b++) {
        const s = slot[d[p0 + b]!]!;
        if (s >= 0) bits[base + s * nWords]! |= 1 << (4 * j + b);
      }
    }
  }
  for (let p = blocks * 32; p < pixels; p++) {
    const s = slot[d[p]!]!;
    if (s >= 0) bits[offset + s * nWords + (p >>> 5)]! |= 1 << (p & 31);
  }
}
