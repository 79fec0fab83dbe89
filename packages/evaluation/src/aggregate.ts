import { summarizeFlipCalibration, type FlipCalibration } from '@probunet/metrics';
import { METRIC_NAMES, type ImageResult, type MetricName } from './image-metrics.js';
import type { MetricConventions } from './protocol-card.js';

export type { FlipCalibration } from '@probunet/metrics';

/** A per-image measure over the images: NaN images are dropped from every statistic and counted. */
export interface Summary {
  mean: number;
  /** Sample standard deviation / √count; NaN below 2 images. */
  standardError: number;
  median: number;
  /** Images with a finite value. */
  count: number;
  /** Images whose value was NaN. */
  nanCount: number;
}

export interface SampleCountSummary {
  samples: number;
  metrics: Partial<Record<MetricName, Summary>>;
}

export interface ModeShare {
  mode: string;
  /** Samples nearest to this mode, over all images. */
  samples: number;
  sampleShare: number;
  /** The mode's probability, averaged over images. */
  trueProbability: number;
}

export interface Aggregates {
  bySampleCount: SampleCountSummary[];
  /** Datasets with a known distribution and no flips (synthetic LIDC): largest count. */
  modeShares: ModeShare[] | null;
  /** Datasets with flips (Cityscapes): largest count. See `summarizeFlipCalibration` (@probunet/metrics). */
  flipCalibration: FlipCalibration | null;
}

/** Mean, standard error, median, counts of the finite values. Sums run in the given order. */
export function summarize(values: readonly (number | null)[]): Summary {
  // null is how JSON writes NaN.
  const finite = values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
  const count = finite.length;
  const nanCount = values.length - count;
  if (count === 0) return { mean: NaN, standardError: NaN, median: NaN, count, nanCount };
  let sum = 0;
  for (const v of finite) sum += v;
  const mean = sum / count;
  let ss = 0;
  for (const v of finite) ss += (v - mean) ** 2;
  const standardError = count < 2 ? NaN : Math.sqrt(ss / (count - 1) / count);
  const sorted = [...finite].sort((a, b) => a - b);
  const median = count % 2 ? sorted[(count - 1) / 2]! : (sorted[count / 2 - 1]! + sorted[count / 2]!) / 2;
  return { mean, standardError, median, count, nanCount };
}

/**
 * Every aggregate of an evaluation, a pure function of its per-image results in index order: a
 * merged set of shards therefore aggregates to exactly what one unsharded run gives.
 */
export function aggregate(perImage: readonly ImageResult[], sampleCounts: readonly number[], conv: MetricConventions): Aggregates {
  const bySampleCount = sampleCounts.map((samples, k) => {
    const metrics: Partial<Record<MetricName, Summary>> = {};
    for (const name of METRIC_NAMES) {
      const vals = perImage.filter((r) => r.values[name]).map((r) => r.values[name]![k]!);
      if (vals.length > 0) metrics[name] = summarize(vals);
    }
    return { samples, metrics };
  });
  let modeShares: ModeShare[] | null = null;
  const withModes = perImage.filter((r) => r.modes);
  if (withModes.length > 0) {
    const byName = new Map<string, { samples: number; probability: number }>();
    let total = 0;
    for (const r of withModes) {
      for (const md of r.modes!) {
        const e = byName.get(md.name) ?? { samples: 0, probability: 0 };
        e.samples += md.samples;
        e.probability += md.probability;
        byName.set(md.name, e);
        total += md.samples;
      }
    }
    modeShares = [...byName].map(([mode, e]) => ({ mode, samples: e.samples, sampleShare: e.samples / total, trueProbability: e.probability / withModes.length }));
  }
  const records = perImage.filter((r) => r.flipRecord).map((r) => r.flipRecord!);
  const flipCalibration = conv.flips && records.length > 0 ? summarizeFlipCalibration(records, conv.flips) : null;
  return { bySampleCount, modeShares, flipCalibration };
}
