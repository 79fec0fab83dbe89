import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart as SVG text and the same chart rasterised to PNG bytes. */
export interface RenderedFigure {
  svg: string;
  png: Uint8Array;
}

/** The one typeface of every chart: named in the SVG and shipped with the app, so PNGs do not depend on system fonts. */
export const FIGURE_FONT = 'DejaVu Sans';

let fontFiles: string[] | undefined;

/** DejaVu Sans (regular and bold, for titles) from the dejavu-fonts-ttf package. */
function figureFontFiles(): string[] {
  if (!fontFiles) {
    const require = createRequire(import.meta.url);
    fontFiles = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));
  }
  return fontFiles;
}

/**
 * Draws a Vega-Lite spec: Vega-Lite compiles it, Vega renders it headless to SVG (no canvas, no
 * browser), resvg rasterises the SVG at twice its size with the bundled font. Every text of the
 * chart uses FIGURE_FONT; the background is white.
 */
export async function renderVegaLite(spec: TopLevelSpec): Promise<RenderedFigure> {
  const withFont = { ...spec, background: 'white', config: { font: FIGURE_FONT, ...spec.config } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(withFont).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: { fontFiles: figureFontFiles(), loadSystemFonts: false, defaultFontFamily: FIGURE_FONT, sansSerifFamily: FIGURE_FONT },
    })
      .render()
      .asPng();
    return { svg, png: new Uint8Array(png) };
  } finally {
    view.finalize();
  }
}
