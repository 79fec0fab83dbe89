import { Figure, type RgbImage } from './labelled-figure.js';

/** One entry of a colour key: a swatch and its label. */
export interface LegendEntry {
  label: string;
  colour: [number, number, number];
}

/**
 * A grid of equally sized pictures with a title, a label over each column and one left of each row
 * (either may be omitted), optionally an x-axis caption under the grid and a colour key (swatches
 * with labels, wrapped to the figure's width) under that. Returns PNG bytes.
 */
export async function labelledGridFigure(options: {
  title: string;
  cells: RgbImage[][];
  columnLabels?: string[];
  rowLabels?: string[];
  caption?: string;
  legend?: LegendEntry[];
}): Promise<Uint8Array> {
  const { cells } = options;
  const cw = Math.max(...cells.flat().map((c) => c.width));
  const ch = Math.max(...cells.flat().map((c) => c.height));
  const scale = Math.max(1, Math.round(96 / Math.max(cw, ch)));
  const gap = 4;
  const pad = 10;
  const line = 18;
  const rowLabelW = options.rowLabels ? Math.max(...(await Promise.all(options.rowLabels.map((l) => Figure.textWidth(l))))) + gap * 2 : 0;
  const cols = Math.max(...cells.map((r) => r.length));
  const gridX = pad + rowLabelW;
  const gridY = pad + line + (options.columnLabels ? line : 0);
  const gridW = cols * cw * scale + (cols - 1) * gap;
  const gridH = cells.length * ch * scale + (cells.length - 1) * gap;
  const titleW = await Figure.textWidth(options.title);
  const figW = Math.max(gridX + gridW + pad, titleW + 2 * pad);
  // The key's entries flow left to right, wrapping at the figure's width.
  const swatch = 12;
  const entries = await Promise.all((options.legend ?? []).map(async (e) => ({ ...e, w: swatch + 4 + (await Figure.textWidth(e.label)) + 14 })));
  const placed: Array<{ e: (typeof entries)[number]; x: number; row: number }> = [];
  let lx = pad;
  let lrow = 0;
  for (const e of entries) {
    if (lx + e.w > figW - pad && lx > pad) {
      lx = pad;
      lrow++;
    }
    placed.push({ e, x: lx, row: lrow });
    lx += e.w;
  }
  const legendH = entries.length > 0 ? (lrow + 1) * line + 4 : 0;
  const fig = await Figure.create(figW, gridY + gridH + pad + (options.caption ? line : 0) + legendH);
  fig.text(pad, pad - 2, options.title);
  options.columnLabels?.forEach((label, c) => fig.textCentred(gridX + c * (cw * scale + gap) + (cw * scale) / 2, pad + line - 2, label));
  cells.forEach((row, r) => {
    const y = gridY + r * (ch * scale + gap);
    if (options.rowLabels?.[r] !== undefined) fig.text(pad, y + (ch * scale) / 2 - fig.lineHeight / 2, options.rowLabels[r]!);
    row.forEach((cell, c) => fig.draw(gridX + c * (cw * scale + gap), y, cell, scale));
  });
  if (options.caption) fig.textCentred(gridX + gridW / 2, gridY + gridH + 4, options.caption);
  const legendY = gridY + gridH + 4 + (options.caption ? line : 0);
  for (const { e, x, row } of placed) {
    const y = legendY + row * line;
    fig.fillRect(x, y + 2, swatch, swatch, [0, 0, 0]);
    fig.fillRect(x + 1, y + 3, swatch - 2, swatch - 2, e.colour);
    fig.text(x + swatch + 4, y, e.label);
  }
  return fig.png();
}
