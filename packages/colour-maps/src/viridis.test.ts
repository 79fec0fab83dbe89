import { describe, expect, it } from 'vitest';
import { VIRIDIS_TABLE, viridis } from './index.js';

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

describe('viridis', () => {
  // matplotlib's five-colour viridis, [to_hex(viridis(x)) for x in linspace(0, 1, 5)]: the endpoints
  // #440154 and #fde725 are the ones matplotlib's and the viridis authors' documentation print.
  it.each([
    [0, '#440154'],
    [0.25, '#3b528b'],
    [0.5, '#21918c'],
    [0.75, '#5ec962'],
    [1, '#fde725'],
  ])('viridis(%s) is %s', (t, h) => {
    expect(viridis(t)).toEqual(hex(h));
  });

  it('clamps t outside [0, 1] and maps NaN to the first colour', () => {
    expect(viridis(-2)).toEqual(viridis(0));
    expect(viridis(7)).toEqual(viridis(1));
    expect(viridis(Number.NaN)).toEqual(viridis(0));
    expect(viridis(Number.POSITIVE_INFINITY)).toEqual(viridis(1));
  });

  it('takes entry ⌊256·t⌋ of the table, as matplotlib does', () => {
    expect(VIRIDIS_TABLE.length).toBe(256 * 3);
    for (let i = 0; i < 256; i++) {
      expect(viridis((i + 0.5) / 256)).toEqual(Array.from(VIRIDIS_TABLE.subarray(3 * i, 3 * i + 3)));
    }
  });

  it('gets brighter all the way (viridis is monotone in lightness; 8-bit rounding wobbles it by one entry)', () => {
    // Relative luminance Y of the linearised sRGB (L* is monotone in Y).
    const linear = (c: number) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
    let last = -1;
    for (let i = 0; i < 256; i += 4) {
      const [r, g, b] = Array.from(VIRIDIS_TABLE.subarray(3 * i, 3 * i + 3), linear) as [number, number, number];
      const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      expect(y, `entry ${i}`).toBeGreaterThan(last);
      last = y;
    }
  });
});
