import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import opentype from 'opentype.js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart as SVG text and the same chart rasterised to PNG bytes. */
export interface RenderedFigure {
  svg: string;
  png: Uint8Array;
}

/** The one typeface of every chart: named in the SVG and shipped with the app, so PNGs do not depend on system fonts. */
export const FIGURE_FONT = 'DejaVu Sans';

let fontFiles: { regular: string; bold: string } | undefined;

/** DejaVu Sans (regular and bold, for titles) from the dejavu-fonts-ttf package. */
function figureFontFiles(): { regular: string; bold: string } {
  if (!fontFiles) {
    const require = createRequire(import.meta.url);
    fontFiles = { regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf') };
  }
  return fontFiles;
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

/**
 * Vega lays text out by its width; without a canvas it guesses 0.8 em a character, which leaves
 * charts far wider than their text. This measures with the font resvg draws with: the sum of the
 * glyphs' advance widths plus kerning (opentype.js reads the TTF), bold for bold text.
 */
function installTextMeasure(): void {
  const files = figureFontFiles();
  const load = (path: string) => {
    const bytes = readFileSync(path);
    return opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  const regular = load(files.regular);
  const bold = load(files.bold);
  const cache = new Map<string, number>();
  (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = (item, text) => {
    const size = item.fontSize ?? 11;
    const value = text == null ? '' : String(text).trim();
    const isBold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    const key = `${isBold ? 'b' : 'r'}${size} ${value}`;
    let width = cache.get(key);
    if (width === undefined) {
      const font = isBold ? bold : regular;
      let units = 0;
      let previous: opentype.Glyph | undefined;
      for (const ch of value) {
        const glyph = font.charToGlyph(ch);
        units += glyph.advanceWidth ?? 0;
        if (previous) units += font.getKerningValue(previous, glyph);
        previous = glyph;
      }
      width = (units * size) / font.unitsPerEm;
      if (cache.size > 10_000) cache.clear();
      cache.set(key, width);
    }
    return width;
  };
}

let measuring = false;

/**
 * Draws a Vega-Lite spec: Vega-Lite compiles it, Vega renders it headless to SVG (no canvas, no
 * browser), resvg rasterises the SVG at twice its size with the bundled font. Every text of the
 * chart uses FIGURE_FONT; the background is white.
 */
export async function renderVegaLite(spec: TopLevelSpec): Promise<RenderedFigure> {
  if (!measuring) {
    installTextMeasure();
    measuring = true;
  }
  const withFont = { ...spec, background: 'white', config: { font: FIGURE_FONT, ...spec.config } } as TopLevelSpec;
  // Errors only: Vega-Lite's optimizer notes ("Maximum optimization runs reached") are no news to a user.
  const logger = vega.logger(vega.Error);
  const view = new vega.View(vega.parse(compile(withFont, { logger }).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: { fontFiles: [figureFontFiles().regular, figureFontFiles().bold], loadSystemFonts: false, defaultFontFamily: FIGURE_FONT, sansSerifFamily: FIGURE_FONT },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png) };
  } finally {
    view.finalize();
  }
}
