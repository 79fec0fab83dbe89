/**
 * The figures of an evaluation (`probunet eval`, `probunet merge`, `probunet reproduce`), drawn
 * from `@probunet/evaluation` results by Vega-Lite/Vega (charts, SVG + PNG via resvg) and Jimp
 * (the sample grid: image pixels, labelled).
 *
 *   gedVersusSamplesFigure(panels, { title? })  → RenderedFigure
 *       per-image GED (jittered points) per sample count and the mean ± s.e. line; one facet per
 *       panel, two a row; GED vs the graders, and vs the true distribution with the oracle floor where the
 *       results have them.
 *   calibrationFigure(panels)   → RenderedFigure | undefined   (undefined: no panel has flip calibration)
 *       sampled flip fraction per flippable class, named (bars), beside its true probability; two panels a row.
 *   modeFrequencyFigure(panels) → RenderedFigure | undefined   (undefined: no panel has mode shares/flip modes)
 *       one panel per model: the mean sampled frequency of each mode (Cityscapes: the 2^F flip
 *       combinations of the images with every flippable class, headed by r and TV; synthetic LIDC:
 *       its modes) beside the mode's true probability, most probable first.
 *   sampleGridFigure(rows, { numClasses, ignoreLabel?, title?, classes? }) → { png }
 *       one row per image; columns "image", "grader 1..k", "sample 1..n". Binary label maps are
 *       drawn red over the image; multi-class ones in class colours (ignoreLabel gray), named and
 *       coloured by `classes` when given (CITYSCAPES_CLASSES: the colours the images are painted in).
 *   writeFigure(dir, basename, figure) → the paths written (basename.svg if any, basename.png), each atomically.
 */
import { join } from 'node:path';
import type { Evaluation } from '@probunet/evaluation';
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLite, type RenderedFigure } from './vega-render.js';

export type { RenderedFigure } from './vega-render.js';
export { sampleGridFigure, type SampleGridOptions, type SampleGridRow } from './sample-grid-figure.js';
export { CITYSCAPES_CLASSES, type ClassStyle } from './cityscapes-classes.js';

/** One facet of a figure: a labelled evaluation (a model, a dataset, a shard). */
export interface EvaluationPanel {
  title: string;
  evaluation: Evaluation;
}

const GED_MEASURES = [
  { metric: 'gedGraders', label: 'vs the graders', points: true },
  { metric: 'gedDistribution', label: 'vs the true distribution', points: true },
  { metric: 'oracleGedDistribution', label: 'oracle floor (true samples)', points: false },
] as const;

/** A deterministic jitter in [-1, 1) from integers (a hash, so the figure is the same on every run). */
function jitter(...keys: number[]): number {
  let h = 2166136261;
  for (const k of keys) h = Math.imul(h ^ (k + 0x9e3779b9), 16777619) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return ((h >>> 8) / 2 ** 24) * 2 - 1;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Facet panels per row: keeps a figure of up to six models within ≈ 1,600 px at the PNG's zoom 2. */
const PANEL_COLUMNS = 2;

export function gedVersusSamplesFigure(panels: EvaluationPanel[], options: { title?: string } = {}): Promise<RenderedFigure> {
  if (panels.length === 0) throw new Error('gedVersusSamplesFigure needs at least one panel');
  const present = GED_MEASURES.filter((m) => panels.some((p) => p.evaluation.bySampleCount.some((s) => finite(s.metrics[m.metric]?.mean))));
  // Each measure gets its own slot inside a sample count's band; points spread ±0.08 around it.
  const slot = new Map(present.map((m, i) => [m.metric, present.length === 1 ? 0 : -0.3 + (0.6 * i) / (present.length - 1)]));
  // One table (facets split a single data source): 'mean' rows and per-image 'point' rows.
  const rows: Array<Record<string, unknown>> = [];
  // x is a position: the index of the sample count among all panels' counts, plus the measure's slot
  // (an ordinal axis with offsets would break the mean lines apart in some Vega-Lite versions).
  const allCounts = [...new Set(panels.flatMap((p) => p.evaluation.card.protocol.sampleCounts))].sort((a, b) => a - b);
  const at = (samples: number) => allCounts.indexOf(samples);
  for (const { title, evaluation } of panels) {
    const counts = evaluation.card.protocol.sampleCounts;
    for (const m of present) {
      evaluation.bySampleCount.forEach((s) => {
        const summary = s.metrics[m.metric];
        if (!summary || !finite(summary.mean)) return;
        const se = finite(summary.standardError) ? summary.standardError : 0;
        rows.push({ kind: 'mean', panel: title, samples: s.samples, measure: m.label, x: at(s.samples) + slot.get(m.metric)!, mean: summary.mean, lo: summary.mean - se, hi: summary.mean + se });
      });
      if (!m.points) continue;
      for (const r of evaluation.perImage) {
        const values = r.values[m.metric];
        values?.forEach((v, k) => {
          if (!finite(v)) return;
          const x = at(counts[k]!) + slot.get(m.metric)! + 0.08 * jitter(r.index, k, present.indexOf(m));
          rows.push({ kind: 'point', panel: title, samples: counts[k], measure: m.label, x, value: v });
        });
      }
    }
  }
  const measures = present.map((m) => m.label);
  const colour = { field: 'measure', type: 'nominal', title: 'GED', legend: { labelLimit: 0, orient: 'bottom', direction: 'vertical' }, scale: { domain: measures, range: ['#1f77b4', '#d62728', '#7f7f7f'].slice(0, measures.length) } } as const;
  const x = {
    field: 'x',
    type: 'quantitative',
    title: 'samples per image',
    scale: { domain: [-0.5, allCounts.length - 0.5], nice: false, zero: false },
    axis: { values: allCounts.map((_, i) => i), labelExpr: `${JSON.stringify(allCounts.map(String))}[datum.value]`, grid: false },
  } as const;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'Generalized energy distance versus number of samples', subtitle: 'dots: images (jittered); line: mean ± standard error; images whose GED is NaN are left out' },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.title), header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: PANEL_COLUMNS,
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'point'" }],
          mark: { type: 'point', filled: true, size: 12, opacity: 0.35 },
          encoding: { x, y: { field: 'value', type: 'quantitative', title: 'GED (d = 1 − IoU)' }, color: colour },
        },
        { transform: [{ filter: "datum.kind === 'mean'" }], mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: colour } },
        { transform: [{ filter: "datum.kind === 'mean'" }], mark: { type: 'line', strokeWidth: 2, point: { size: 40 } }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color: colour } },
      ],
    },
  } as unknown as TopLevelSpec;
  return renderVegaLite(spec);
}

export function calibrationFigure(panels: EvaluationPanel[]): Promise<RenderedFigure | undefined> {
  const rows: Array<Record<string, unknown>> = [];
  const order: string[] = [];
  for (const { title, evaluation } of panels) {
    const cal = evaluation.flipCalibration;
    if (!cal) continue;
    for (const f of cal.flips) {
      const flip = `${f.name ? `${f.name} ` : ''}${f.from}→${f.to}`;
      if (!order.includes(flip)) order.push(flip);
      rows.push({ panel: title, flip, kind: 'true probability', value: f.trueProbability });
      if (finite(f.fraction)) rows.push({ panel: title, flip, kind: 'sampled flip fraction', value: f.fraction });
    }
  }
  if (rows.length === 0) return Promise.resolve(undefined);
  const kinds = ['sampled flip fraction', 'true probability'];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Flip calibration: sampled flip fraction per class versus its true probability',
      subtitle: 'pixels of each flippable class, in the images that contain it, that the samples give its flipped label (largest sample count)',
    },
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.title), header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: PANEL_COLUMNS,
    spec: {
      width: 300,
      height: 200,
      mark: 'bar',
      encoding: {
        x: { field: 'flip', type: 'nominal', title: 'flippable class (from → to, trainIds)', sort: order, axis: { labelAngle: -30 } },
        xOffset: { field: 'kind', type: 'nominal', sort: kinds },
        y: { field: 'value', type: 'quantitative', title: 'probability of the flip', scale: { domain: [0, 1] } },
        color: { field: 'kind', type: 'nominal', title: null, legend: { labelLimit: 0, orient: 'top' }, scale: { domain: kinds, range: ['#1f77b4', '#bbbbbb'] } },
      },
    },
  } as unknown as TopLevelSpec;
  return renderVegaLite(spec);
}

interface PanelModes {
  /** Facet header: the panel's title and its summary. */
  header: string;
  modes: Array<{ mode: string; sampled: number; truth: number }>;
}

/**
 * The modes of one evaluation. Flips (Cityscapes-like data): the 2^F combinations over the images
 * that contain every flippable class (mean sampled frequency against the exact probability, with
 * Pearson r and the table's total variation); undefined when no image has every class. Otherwise
 * the known distribution's modes.
 */
function modesOf(title: string, evaluation: Evaluation): PanelModes | undefined {
  const cal = evaluation.flipCalibration;
  if (cal) {
    const t = cal.fullModes;
    if (t.images === 0) return undefined;
    return {
      header: `${title}: r = ${finite(t.pearsonR) ? t.pearsonR.toFixed(3) : 'undefined'}, TV = ${t.totalVariation.toFixed(3)} (${t.images} image${t.images === 1 ? '' : 's'} with every class)`,
      modes: t.modes.map((m) => ({ mode: m.key, sampled: m.sampledFrequency, truth: m.trueProbability })),
    };
  }
  if (evaluation.modeShares && evaluation.modeShares.length > 0) {
    return { header: title, modes: evaluation.modeShares.map((m) => ({ mode: m.mode, sampled: m.sampleShare, truth: m.trueProbability })) };
  }
  return undefined;
}

/**
 * Sampled mode frequency against true probability, one panel per model stacked in one column
 * (≤ ≈ 1,400 px wide at zoom 2 for the 32 Cityscapes combinations), modes on the x axis most
 * probable first. Flip combinations are named by digits, one per flippable class, which the
 * subtitle and the axis title name.
 */
export function modeFrequencyFigure(panels: EvaluationPanel[]): Promise<RenderedFigure | undefined> {
  const rows: Array<Record<string, unknown>> = [];
  const headers: string[] = [];
  const truthOf = new Map<string, number>();
  let flipNames: string[] | undefined;
  for (const { title, evaluation } of panels) {
    const found = modesOf(title, evaluation);
    if (!found) continue;
    if (evaluation.flipCalibration) flipNames = evaluation.flipCalibration.flips.map((f) => f.name ?? `${f.from}→${f.to}`);
    headers.push(found.header);
    for (const m of found.modes) {
      truthOf.set(m.mode, Math.max(truthOf.get(m.mode) ?? 0, m.truth));
      rows.push({ panel: found.header, mode: m.mode, kind: 'sampled frequency', value: m.sampled });
      rows.push({ panel: found.header, mode: m.mode, kind: 'true probability', value: m.truth });
    }
  }
  if (rows.length === 0) return Promise.resolve(undefined);
  const order = [...truthOf].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([mode]) => mode);
  const kinds = ['sampled frequency', 'true probability'];
  const legend = flipNames
    ? [`mode digits, left to right: ${flipNames.join(', ')} (1 = flipped, 0 = not)`, 'images that contain all the flippable classes; sampled frequency: mean over those images', 'of the share of their samples that take the mode']
    : ['modes of the known distribution (synthetic data); sampled frequency: share of all samples nearest to the mode'];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Mode frequencies: how often the samples take each mode versus its true probability', subtitle: [...legend, 'largest sample count; modes sorted by true probability, most probable first'] },
    data: { values: rows },
    facet: { row: { field: 'panel', type: 'nominal', title: null, sort: headers, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontSize: 13, labelFontWeight: 'bold' } } },
    // Each panel its own y scale: one model's tall bar (a sampler that always takes one mode) must not flatten the others'.
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: order.length > 8 ? 620 : 320,
      height: 150,
      mark: 'bar',
      encoding: {
        x: {
          field: 'mode',
          type: 'nominal',
          title: flipNames ? `flip combination (${flipNames.join(' · ')})` : 'mode',
          sort: order,
          axis: { labelAngle: -90, labelFontSize: 11 },
        },
        xOffset: { field: 'kind', type: 'nominal', sort: kinds },
        y: { field: 'value', type: 'quantitative', title: 'frequency / probability' },
        color: { field: 'kind', type: 'nominal', title: null, legend: { labelLimit: 0, orient: 'top' }, scale: { domain: kinds, range: ['#1f77b4', '#bbbbbb'] } },
      },
    },
  } as unknown as TopLevelSpec;
  return renderVegaLite(spec);
}

/** Writes `basename.svg` (when given) and `basename.png` into `dir`, each atomically; returns their paths. */
export async function writeFigure(dir: string, basename: string, figure: { svg?: string; png: Uint8Array }): Promise<string[]> {
  // Loaded here, not at the top: the figure builders above need no TensorFlow (core/node brings it), so scripts can draw with plain Node.
  const { writeFileAtomic } = await import('@probunet/core/node');
  const paths: string[] = [];
  if (figure.svg !== undefined) {
    const svg = join(dir, `${basename}.svg`);
    await writeFileAtomic(svg, figure.svg);
    paths.push(svg);
  }
  const png = join(dir, `${basename}.png`);
  await writeFileAtomic(png, figure.png);
  paths.push(png);
  return paths;
}
