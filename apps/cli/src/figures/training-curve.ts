import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLite, type RenderedFigure } from './vega-render.js';

/** One curve of a training figure: (step, value) points. */
export interface CurveSeries {
  name: string;
  points: Array<[number, number]>;
}

/**
 * Training curves (loss terms against the step) as a Vega-Lite line chart with a legend. Non-finite
 * values, and values ≤ 0 on a log scale, are left out. `markers` draws vertical rules, e.g. where a
 * resumed run changed its learning rate.
 */
export function trainingCurveFigure(
  series: CurveSeries[],
  options: { title: string; xTitle?: string; yTitle?: string; logY?: boolean; markers?: Array<{ step: number; label: string }> },
): Promise<RenderedFigure> {
  const rows = series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.logY || y > 0)).map(([step, value]) => ({ series: s.name, step, value })));
  const x = { field: 'step', type: 'quantitative', title: options.xTitle ?? 'step', axis: { format: 'd', tickMinStep: 1 } } as const;
  const layers: unknown[] = [
    {
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title: options.yTitle ?? 'value', scale: options.logY ? { type: 'log' } : { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, sort: series.map((s) => s.name), legend: { labelLimit: 0 } },
      },
    },
  ];
  if (options.markers?.length) {
    layers.push({
      data: { values: options.markers },
      mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
      encoding: { x },
    });
    layers.push({
      data: { values: options.markers },
      mark: { type: 'text', align: 'left', dx: 3, baseline: 'top', y: 2, color: '#333' },
      encoding: { x, text: { field: 'label' } },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: 560,
    height: 300,
    data: { values: rows },
    layer: layers,
  } as unknown as TopLevelSpec;
  return renderVegaLite(spec);
}
