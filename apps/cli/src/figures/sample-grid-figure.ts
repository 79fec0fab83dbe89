import type { Example } from '@probunet/datasets';
import type { ClassStyle } from './cityscapes-classes.js';
import { classColour, labelImage, overlayImage } from './colour.js';
import type { RgbImage } from './labelled-figure.js';
import { labelledGridFigure } from './labelled-grid.js';

/** One row of a sample grid: an image, its graders' annotations and the model's samples (label maps `[H*W]`). */
export interface SampleGridRow {
  label: string;
  image: Example;
  graders: Uint8Array[];
  samples: Uint8Array[];
}

/** The image min–max normalised to [0, 1] per channel set (display only). */
function normalised(ex: Example): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ex.image) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  return Float32Array.from(ex.image, (v) => (v - lo) / span);
}

function pictureOf(ex: Example, image: Float32Array): RgbImage {
  const n = ex.width * ex.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round(255 * image[i * ex.channels + (ex.channels === 3 ? c : 0)]!);
  }
  return { width: ex.width, height: ex.height, rgb };
}

/** A label map in the given classes' colours (others in `classColour`'s), the ignore label gray. */
function styledLabelImage(labels: ArrayLike<number>, width: number, height: number, ignoreLabel: number | undefined, colourOf: (k: number) => [number, number, number]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(labels[i] === ignoreLabel ? [128, 128, 128] : colourOf(labels[i]!), i * 3);
  return { width, height, rgb };
}

export interface SampleGridOptions {
  numClasses: number;
  ignoreLabel?: number;
  title?: string;
  /**
   * Names and colours of multi-class labels (e.g. CITYSCAPES_CLASSES, whose colours are those the
   * images are painted in): the key then reads "person (11)"; classes not listed keep generic colours.
   */
  classes?: readonly ClassStyle[];
}

/**
 * A labelled grid, one row per image: the image, each grader's annotation, then each sample. Binary
 * label maps (numClasses 2) are drawn over the image, the foreground in red; multi-class ones as
 * class colours (the ignore label gray), with a key of the classes shown. Rows may differ in their
 * numbers of graders and samples.
 */
export async function sampleGridFigure(rows: SampleGridRow[], options: SampleGridOptions): Promise<{ png: Uint8Array }> {
  if (rows.length === 0) throw new Error('sampleGridFigure needs at least one row');
  const graders = Math.max(...rows.map((r) => r.graders.length));
  const samples = Math.max(...rows.map((r) => r.samples.length));
  const binary = options.numClasses <= 2;
  const styles = new Map((options.classes ?? []).map((c) => [c.id, c]));
  const colourOf = (k: number): [number, number, number] => styles.get(k)?.colour ?? classColour(k);
  const cells = rows.map(({ image: ex, graders: g, samples: s }) => {
    const image = normalised(ex);
    const draw = (labels: Uint8Array) =>
      binary ? overlayImage(image, ex.channels, labels, ex.width, ex.height, options.ignoreLabel ?? -1) : options.classes
          ? styledLabelImage(labels, ex.width, ex.height, options.ignoreLabel, colourOf)
          : labelImage(labels, ex.width, ex.height, options.ignoreLabel);
    const blank: RgbImage = { width: ex.width, height: ex.height, rgb: new Uint8Array(ex.width * ex.height * 3).fill(255) };
    const pad = (list: RgbImage[], k: number) => [...list, ...Array.from({ length: k - list.length }, () => blank)];
    return [pictureOf(ex, image), ...pad(g.map(draw), graders), ...pad(s.map(draw), samples)];
  });
  const present = new Set<number>();
  if (!binary) for (const r of rows) for (const m of [...r.graders, ...r.samples]) for (const v of m) present.add(v);
  present.delete(options.ignoreLabel ?? -1);
  const caption = binary ? 'graders and samples: the foreground class in red over the image' : 'graders and samples: label maps in class colours';
  const legend = binary
    ? [{ label: 'class 1', colour: classColour(1) }]
    : [
        ...[...present].sort((a, b) => a - b).map((k) => ({ label: styles.has(k) ? `${styles.get(k)!.name} (${k})` : `class ${k}`, colour: colourOf(k) })),
        ...(options.ignoreLabel !== undefined ? [{ label: `ignore (${options.ignoreLabel})`, colour: [128, 128, 128] as [number, number, number] }] : []),
      ];
  const png = await labelledGridFigure({
    // Plain quotes: the bitmap font has no typographic apostrophe.
    title: options.title ?? "Images, their graders' annotations and the model's samples",
    legend,
    cells,
    columnLabels: ['image', ...Array.from({ length: graders }, (_, i) => `grader ${i + 1}`), ...Array.from({ length: samples }, (_, i) => `sample ${i + 1}`)],
    rowLabels: rows.map((r) => r.label),
    caption,
  });
  return { png };
}
