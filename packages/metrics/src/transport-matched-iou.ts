import { distanceMatrix } from './distance-matrix.js';
import { encodeSet, type DistanceOptions } from './encoded-set.js';
import { checkWeights } from './energy-distance.js';
import { hungarianMatchedIoU } from './matched-iou.js';
import { solveTransport } from './optimal-transport.js';
import type { LabelMap } from './label-map.js';

export interface MatchedIoUOptions extends DistanceOptions {
  /**
   * Probability of each truth (e.g. Cityscapes' 32 weighted flip modes), summing to 1. Given, the
   * samples (mass 1/n each) are matched to the truths by optimal transport on cost 1 − IoU, as in
   * MoSE (Gao et al. 2023). Omitted, the truths are uniform and today's repeat-and-match applies
   * (`hungarianMatchedIoU`, n a multiple of m).
   */
  truthWeights?: number[];
}

/**
 * Matched IoU of samples against weighted truths: Σ π_ij IoU_ij for the transport plan π that
 * minimises Σ π_ij (1 − IoU_ij). With uniform weights and n a multiple of m it equals the
 * Hungarian repeat-and-match value. Under emptyPair 'nan', NaN pairs cost 0 and are left out of
 * the (plan-weighted) mean, as in `hungarianMatchedIoU`; all NaN gives NaN.
 */
export function transportMatchedIoU(samples: LabelMap[], truths: LabelMap[], opts: MatchedIoUOptions = {}): number {
  if (opts.truthWeights === undefined) return hungarianMatchedIoU(samples, truths, opts);
  const m = truths.length;
  const weights = checkWeights(opts.truthWeights, m);
  const enc = encodeSet(samples, truths, opts);
  const n = samples.length;
  const d = distanceMatrix(enc, enc.samples, enc.truths);
  const cost = d.map((v) => (Number.isNaN(v) ? 0 : v));
  const plan = solveTransport(cost, new Float64Array(n).fill(1 / n), weights);
  let sum = 0;
  let mass = 0;
  for (let k = 0; k < n * m; k++) {
    if (Number.isNaN(d[k]!) || plan[k] === 0) continue;
    sum += plan[k]! * (1 - d[k]!);
    mass += plan[k]!;
  }
  return mass === 0 ? NaN : sum / mass;
}
