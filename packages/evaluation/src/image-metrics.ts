import type { Example } from '@probunet/datasets';
import {
  expectedCalibrationError,
  generalizedEnergyDistance,
  hungarianMatchedIoU,
  normalizedCrossCorrelation,
  pairwiseDistances,
  recordImageFlips,
  transportMatchedIoU,
  type ImageFlipRecord,
  type LabelMap,
} from '@probunet/metrics';
import type { MetricConventions } from './protocol-card.js';

/** The per-image measures, each a list aligned with the card's sampleCounts. */
export const METRIC_NAMES = [
  'gedGraders',
  'sampleDiversity',
  'matchedIoUGraders',
  'ncc',
  'ece',
  'gedDistribution',
  'matchedIoUDistribution',
  'oracleGedDistribution',
  'trueDiversity',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Everything measured on one image. Plain JSON (NaN is written as null by JSON.stringify; `reviveEvaluation` restores it). */
export interface ImageResult {
  /** Position in the dataset. */
  index: number;
  id: string;
  /** One value per sample count; the distribution measures only where the example knows its distribution. */
  values: Partial<Record<MetricName, number[]>>;
  /** Samples (of the largest count) nearest to each mode, with the mode's true probability. */
  modes?: Array<{ name: string; probability: number; samples: number }>;
  /** Flip calibration (largest count): pixel counts per flip in the card's flip order, and the combination each sample took. */
  flipRecord?: ImageFlipRecord;
}

/**
 * Measures one image's samples. `samples` holds the largest count; each count n uses its first n.
 * `oracle` (largest count of draws from the known distribution) gives the floor a perfect model reaches.
 */
export function measureImage(
  index: number,
  example: Example,
  samples: LabelMap[],
  oracle: LabelMap[] | undefined,
  sampleCounts: readonly number[],
  conv: MetricConventions,
): ImageResult {
  const map = (d: ArrayLike<number>): LabelMap => ({ data: d, height: example.height, width: example.width });
  const graders = example.annotations.map(map);
  const m = graders.length;
  const dist = { classes: conv.classes, emptyPair: conv.emptyPair, ignoreLabel: conv.ignoreLabel };
  const gedOpts = { ...dist, nanPairs: conv.nanPairs };
  const values: Partial<Record<MetricName, number[]>> = {};
  const push = (name: MetricName, v: number) => (values[name] ??= []).push(v);
  const modes = example.distribution;
  const truths = modes?.map((md) => map(md.labels));
  const truthWeights = modes?.map((md) => md.probability);
  for (const n of sampleCounts) {
    const s = samples.slice(0, n);
    const g = generalizedEnergyDistance(s, graders, gedOpts);
    push('gedGraders', g.ged);
    push('sampleDiversity', g.sampleDiversity);
    push('matchedIoUGraders', n % m === 0 ? hungarianMatchedIoU(s, graders, dist) : transportMatchedIoU(s, graders, { ...dist, truthWeights: graders.map(() => 1 / m) }));
    push('ncc', normalizedCrossCorrelation(s, graders, { numClasses: conv.numClasses, ignoreLabel: conv.ignoreLabel }));
    push('ece', expectedCalibrationError(s, graders, { classId: conv.ece.classId, bins: conv.ece.bins, ignoreLabel: conv.ignoreLabel }));
    if (truths && truthWeights) {
      const vsTruth = generalizedEnergyDistance(s, truths, { ...gedOpts, truthWeights });
      push('gedDistribution', vsTruth.ged);
      // E[d(Y, Y′)] of the exact distribution: what sampleDiversity should approach.
      push('trueDiversity', vsTruth.truthDiversity);
      push('matchedIoUDistribution', transportMatchedIoU(s, truths, { ...dist, truthWeights }));
      if (oracle) push('oracleGedDistribution', generalizedEnergyDistance(oracle.slice(0, n), truths, { ...gedOpts, truthWeights }).ged);
    }
  }
  const result: ImageResult = { index, id: example.id, values };
  const unflipped = example.meta?.unflipped;
  if (conv.flips && unflipped instanceof Uint8Array) {
    result.flipRecord = recordImageFlips(samples, map(unflipped), conv.flips, { ignoreLabel: conv.ignoreLabel });
  } else if (modes && truths) {
    const counts = modes.map(() => 0);
    const d = pairwiseDistances(samples, truths, { classes: conv.classes, emptyPair: 'one', ignoreLabel: conv.ignoreLabel });
    const k = truths.length;
    for (let i = 0; i < samples.length; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (d[i * k + j]! < d[i * k + best]!) best = j;
      counts[best]!++;
    }
    result.modes = modes.map((md, k) => ({ name: md.name, probability: md.probability, samples: counts[k]! }));
  }
  return result;
}
