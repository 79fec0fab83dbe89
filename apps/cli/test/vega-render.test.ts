import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { renderVegaLite } from '../src/figures/vega-render.js';
import type { TopLevelSpec } from 'vega-lite';

/** Dark pixels (text, lines) in rows [y0, y1) of a PNG. */
function darkPixels(png: Uint8Array, y0: number, y1: number): number {
  const img = decode(png);
  let n = 0;
  for (let y = y0; y < Math.min(y1, img.height); y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * img.channels;
      if (img.data[o]! + img.data[o + 1]! + img.data[o + 2]! < 200) n++;
    }
  }
  return n;
}

const chart = (title?: string): TopLevelSpec => ({
  ...(title ? { title } : {}),
  data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
  mark: 'line',
  encoding: { x: { field: 'x', type: 'quantitative', title: 'the x axis' }, y: { field: 'y', type: 'quantitative', title: 'the y axis' } },
});

describe('renderVegaLite', () => {
  it('draws the text with the bundled font (no system fonts), at twice the SVG size', async () => {
    const titled = await renderVegaLite(chart('A title drawn in DejaVu Sans'));
    const plain = await renderVegaLite(chart());
    expect(titled.svg).toContain('A title drawn in DejaVu Sans');
    expect(titled.svg).toContain('font-family="DejaVu Sans"');
    const width = Number(/width="(\d+)"/.exec(titled.svg)![1]);
    expect(decode(titled.png).width).toBe(2 * width);
    // The title's glyphs are dark pixels above the plot; without a usable font resvg draws no text.
    const titleBand = Number(/height="(\d+)"/.exec(titled.svg)![1]) * 2 - Number(/height="(\d+)"/.exec(plain.svg)![1]) * 2;
    expect(titleBand).toBeGreaterThan(20);
    expect(darkPixels(titled.png, 0, titleBand)).toBeGreaterThan(200);
  });
});
