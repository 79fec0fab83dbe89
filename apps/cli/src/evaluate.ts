import * as tf from '@tensorflow/tfjs-core';
import type { SegmentationSampler } from '@probunet/core';
import { sampleFromDistribution, toTensors, type Example, type IndexedDataset } from '@probunet/datasets';
import { MetricAccumulator, generalizedEnergyDistance, hungarianMatchedIoU, iou, type LabelMap, type MetricSummary } from '@probunet/metrics';

export interface Evaluation {
  images: number;
  samplesPerImage: number;
  /** GED of the samples against the exact distribution (modes weighted by probability). */
  gedVsDistribution: MetricSummary;
  /** GED of n samples drawn from the distribution itself: the floor a perfect model reaches. */
  oracleGedVsDistribution: MetricSummary;
  /** GED against the graders' annotations (what real datasets allow). */
  gedVsGraders: MetricSummary;
  hungarianMatchedIoU: MetricSummary;
  sampleDiversity: MetricSummary;
  /** Share of samples nearest to each mode (by IoU), against the mode's true probability. */
  modeShares: Array<{ mode: string; sampleShare: number; trueProbability: number }>;
  /** Per image: the samples, for figures. */
  perImage: Array<{ example: Example; samples: Uint8Array[] }>;
}

/** Samples `n` segmentations per test image and scores them with the field's metrics. */
export async function evaluateSampler(
  sampler: SegmentationSampler,
  dataset: IndexedDataset,
  options: { n: number; seed: number; keepForFigure?: number },
): Promise<Evaluation> {
  const { n, seed } = options;
  const { evalClasses: classes, emptyPair, ignoreLabel } = dataset.spec;
  const metricOpts = { classes, emptyPair, ignoreIndex: ignoreLabel };
  const acc = {
    ged: new MetricAccumulator(),
    oracle: new MetricAccumulator(),
    graders: new MetricAccumulator(),
    hm: new MetricAccumulator(),
    diversity: new MetricAccumulator(),
  };
  const modeCounts = new Map<string, { count: number; prob: number }>();
  const perImage: Evaluation['perImage'] = [];
  let total = 0;
  for (let i = 0; i < dataset.length; i++) {
    const ex = await dataset.get(i);
    const { images, labels } = toTensors([ex]);
    labels.dispose();
    const out = sampler.sample(images, n, { seed: seed + i });
    const data = (await out.data()) as Int32Array;
    tf.dispose([images, out]);
    const hw = ex.height * ex.width;
    const samples = Array.from({ length: n }, (_, k) => Uint8Array.from(data.subarray(k * hw, (k + 1) * hw)));
    const map = (d: ArrayLike<number>): LabelMap => ({ data: d, height: ex.height, width: ex.width });
    const graders = ex.annotations.map(map);
    const sampleMaps = samples.map(map);
    acc.graders.add(generalizedEnergyDistance(sampleMaps, graders, metricOpts).ged, ex.id);
    if (n % graders.length === 0) acc.hm.add(hungarianMatchedIoU(sampleMaps, graders, { classes, emptyPair }), ex.id);
    if (ex.distribution) {
      const truths = ex.distribution.map((m) => map(m.labels));
      const truthWeights = ex.distribution.map((m) => m.probability);
      const g = generalizedEnergyDistance(sampleMaps, truths, { ...metricOpts, truthWeights });
      acc.ged.add(g.ged, ex.id);
      acc.diversity.add(g.sampleDiversity, ex.id);
      const oracle = sampleFromDistribution(ex, n, seed + 7919 * (i + 1)).map(map);
      acc.oracle.add(generalizedEnergyDistance(oracle, truths, { ...metricOpts, truthWeights }).ged, ex.id);
      for (const s of sampleMaps) {
        let best = 0;
        let bestIoU = -1;
        ex.distribution.forEach((m, k) => {
          const v = iou(s, map(m.labels), { classId: classes[0]!, emptyPair: 'one' });
          if (v > bestIoU) {
            bestIoU = v;
            best = k;
          }
        });
        const m = ex.distribution[best]!;
        const e = modeCounts.get(m.name) ?? { count: 0, prob: 0 };
        e.count++;
        modeCounts.set(m.name, e);
        total++;
      }
      for (const m of ex.distribution) {
        const e = modeCounts.get(m.name) ?? { count: 0, prob: 0 };
        e.prob += m.probability;
        modeCounts.set(m.name, e);
      }
    }
    if (perImage.length < (options.keepForFigure ?? 0)) perImage.push({ example: ex, samples });
  }
  return {
    images: dataset.length,
    samplesPerImage: n,
    gedVsDistribution: acc.ged.summary(),
    oracleGedVsDistribution: acc.oracle.summary(),
    gedVsGraders: acc.graders.summary(),
    hungarianMatchedIoU: acc.hm.summary(),
    sampleDiversity: acc.diversity.summary(),
    modeShares: [...modeCounts].map(([mode, e]) => ({ mode, sampleShare: total ? e.count / total : NaN, trueProbability: e.prob / dataset.length })),
    perImage,
  };
}

/** The summary without per-image values or samples, for printing. */
export function compactSummary(s: MetricSummary): { mean: number; median: number; count: number; nanCount: number } {
  return { mean: s.mean, median: s.median, count: s.count, nanCount: s.nanCount };
}
