import { describe, expect, it } from 'vitest';
import { setLabelBits, slotTable } from './label-bits.js';

/** Bit p of slot s set ⇔ label of p is classes[s]: the definition, pixel by pixel. */
function expectedBits(labels: ArrayLike<number>, classes: number[], nWords: number): Uint32Array {
  const out = new Uint32Array(classes.length * nWords);
  for (let p = 0; p < labels.length; p++) {
    const s = classes.indexOf(labels[p]!);
    if (s >= 0) out[s * nWords + (p >>> 5)]! |= 1 << (p & 31);
  }
  return out;
}

function encode(data: ArrayLike<number>, height: number, width: number, classes: number[], offset = 0): Uint32Array {
  const nWords = (height * width + 31) >>> 5;
  const bits = new Uint32Array(offset + classes.length * nWords);
  const target = { bits, listed: new Uint32Array(bits.length), listedCount: new Int32Array(classes.length), offset, nWords };
  setLabelBits({ data, height, width }, slotTable(classes), target, 'map');
  // The listed words are exactly the non-zero ones, ascending, slot by slot.
  classes.forEach((_, s) => {
    const at = offset + s * nWords;
    const nonZero = [...bits.subarray(at, at + nWords).keys()].filter((k) => bits[at + k] !== 0);
    expect(Array.from(target.listed.subarray(at, at + target.listedCount[s]!))).toEqual(nonZero);
  });
  return bits.subarray(offset);
}

describe('setLabelBits', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  /** Regions of one label (whole blocks and quads) with scattered noise, as in real segmentations. */
  const regions = (n: number, labels: number[], noise: number) => {
    const out = new Uint8Array(n);
    let v = labels[0]!;
    for (let p = 0; p < n; p++) {
      if (rnd() < 0.02) v = labels[Math.floor(rnd() * labels.length)]!;
      out[p] = rnd() < noise ? labels[Math.floor(rnd() * labels.length)]! : v;
    }
    return out;
  };

  it.each([
    ['binary, sparse', 16, 16, [1], [0, 0, 0, 1], 0],
    ['binary, noisy', 5, 64, [1], [0, 1], 0.1],
    ['many classes with an ignore label, tail pixels', 7, 37, [0, 1, 8, 255], [0, 1, 2, 8, 255], 0.05],
    ['class 0 only', 8, 64, [0], [0, 3], 0.02],
    ['label 0 has no slot', 4, 96, [2, 3], [0, 2, 3], 0.3],
  ])('byte maps: %s, the same bits as pixel by pixel', (_name, h, w, classes, labels, noise) => {
    for (let k = 0; k < 20; k++) {
      const bytes = regions(h * w, labels, noise);
      const expected = expectedBits(bytes, classes, (h * w + 31) >>> 5);
      expect(encode(bytes, h, w, classes)).toEqual(expected);
      expect(encode(new Uint8ClampedArray(bytes), h, w, classes, 3)).toEqual(expected);
      expect(encode(Array.from(bytes), h, w, classes)).toEqual(expected); // generic path
      const unaligned = new Uint8Array(bytes.length + 1).subarray(1);
      unaligned.set(bytes);
      expect(encode(unaligned, h, w, classes)).toEqual(expected);
    }
  });

  it.each([
    ['a block of one label', new Uint8Array(32).fill(5), [5], [0xffffffff]],
    ['a block of a label without a slot', new Uint8Array(32).fill(4), [5], [0]],
    ['one quad of the class', Uint8Array.from({ length: 32 }, (_, p) => (p >= 28 ? 1 : 0)), [1], [0xf0000000]],
    ['first and last pixel', Uint8Array.from({ length: 32 }, (_, p) => (p === 0 || p === 31 ? 1 : 0)), [1], [0x80000001]],
    ['33 pixels: the tail pixel', Uint8Array.from({ length: 33 }, (_, p) => (p === 32 ? 1 : 0)), [1], [0, 1]],
  ])('hand-computed: %s', (_name, bytes, classes, words) => {
    expect(Array.from(encode(bytes, 1, bytes.length, classes))).toEqual(words);
  });

  it('rejects negative and non-integer labels outside typed unsigned arrays', () => {
    expect(() => encode([0, 1, -2], 1, 3, [1])).toThrow(/label -2 at pixel 2/);
    expect(() => encode(new Float32Array([0, 1.5]), 1, 2, [1])).toThrow(/label 1.5 at pixel 1/);
    expect(() => encode(new Int16Array([0, -1]), 1, 2, [1])).toThrow(/label -1 at pixel 1/);
  });
});
