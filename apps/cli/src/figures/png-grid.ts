import { encode } from 'fast-png';

/** One cell of a figure: a grayscale image in [0,1] (or a label map drawn white on black). */
export interface Cell {
  width: number;
  height: number;
  /** Values in [0, 1], row-major. */
  gray: Float32Array | Uint8Array;
}

/** Min–max normalised copy of an image channel, for display. */
export function normalizeImage(data: Float32Array, width: number, height: number): Cell {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const gray = new Float32Array(data.length);
  const span = hi - lo || 1;
  for (let i = 0; i < data.length; i++) gray[i] = (data[i]! - lo) / span;
  return { width, height, gray };
}

/** A binary (or any) label map as a cell: label > 0 is white. */
export function maskCell(labels: ArrayLike<number>, width: number, height: number): Cell {
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = labels[i]! > 0 ? 1 : 0;
  return { width, height, gray };
}

/** Renders rows of cells into one RGB PNG, each cell scaled by `scale`, with gaps between cells. */
export function renderGrid(rows: Cell[][], options: { scale?: number; gap?: number; separatorAfter?: number[] } = {}): Uint8Array {
  const scale = options.scale ?? 3;
  const gap = options.gap ?? 2;
  const cols = Math.max(...rows.map((r) => r.length));
  const cw = Math.max(...rows.flat().map((c) => c.width)) * scale;
  const ch = Math.max(...rows.flat().map((c) => c.height)) * scale;
  const sepAfter = new Set(options.separatorAfter ?? []);
  const extra = (col: number) => [...sepAfter].filter((s) => s < col).length * gap * 3;
  const width = cols * cw + (cols + 1) * gap + extra(cols);
  const height = rows.length * ch + (rows.length + 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(90);
  rows.forEach((row, r) => {
    row.forEach((cell, c) => {
      const x0 = gap + c * (cw + gap) + extra(c);
      const y0 = gap + r * (ch + gap);
      for (let y = 0; y < cell.height * scale; y++) {
        for (let x = 0; x < cell.width * scale; x++) {
          const v = Math.round(255 * Math.min(1, Math.max(0, cell.gray[Math.floor(y / scale) * cell.width + Math.floor(x / scale)]!)));
          const o = ((y0 + y) * width + (x0 + x)) * 3;
          rgb[o] = v;
          rgb[o + 1] = v;
          rgb[o + 2] = v;
        }
      }
    });
  });
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}
