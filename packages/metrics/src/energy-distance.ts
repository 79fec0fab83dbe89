import { distanceMatrix } from './distance-matrix.js';
import { encodeSet, type DistanceOptions } from './encoded-set.js';
import { MetricInputError, type LabelMap } from './label-map.js';

export interface EnergyDistanceOptions extends DistanceOptions {
  /**
   * Probability of each truth (e.g. the 32 Cityscapes flip modes); must sum to 1. Default uniform.
   * With weights, means over truths become weighted sums.
   */
  truthWeights?: number[];
}

export interface EnergyDistance {
  /** D²_GED = 2·crossDistance − sampleDiversity − truthDiversity. */
  ged: number;
  /** E[d(S, Y)]: mean over samples, (weighted) mean over truths. */
  crossDistance: number;
  /** E[d(S, S′)] over all sample pairs, diagonal included. */
  sampleDiversity: number;
  /** E[d(Y, Y′)] over all (weighted) truth pairs, diagonal included. */
  truthDiversity: number;
}

/**
 * Generalized energy distance between a set of samples and a set of truths, with d = 1 − IoU
 * averaged over `classes`: the V-statistic estimate, all pairs with the diagonal included
 * (Kohl et al. 2018, eq. 4).
 *
 * Pair distances that are NaN (only possible with emptyPair 'nan': no class present in either map)
 * are skipped, and the remaining weights renormalised; a term with no finite pair is NaN.
 */
export function generalizedEnergyDistance(samples: LabelMap[], truths: LabelMap[], opts: EnergyDistanceOptions = {}): EnergyDistance {
  const weights = checkWeights(opts.truthWeights, truths.length);
  const enc = encodeSet(samples, truths, opts);
  const n = samples.length;
  const uniformN = new Float64Array(n).fill(1 / n);
  const cross = weightedMean(distanceMatrix(enc, enc.samples, enc.truths), uniformN, weights);
  const ss = weightedMean(distanceMatrix(enc, enc.samples, enc.samples, true), uniformN, uniformN);
  const truthDiversity = weightedMean(distanceMatrix(enc, enc.truths, enc.truths, true), weights, weights);
  return { ged: 2 * cross - ss - truthDiversity, crossDistance: cross, sampleDiversity: ss, truthDiversity };
}

/** Σ_ij a_i b_j M_ij over finite entries, divided by Σ a_i b_j over the same entries. */
function weightedMean(matrix: Float64Array, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const v = matrix[i * b.length + j]!;
      if (Number.isNaN(v)) continue;
      const w = a[i]! * b[j]!;
      sum += w * v;
      norm += w;
    }
  }
  return norm === 0 ? NaN : sum / norm;
}

export function checkWeights(weights: number[] | undefined, m: number): Float64Array {
  if (weights === undefined) return new Float64Array(m).fill(1 / m);
  if (weights.length !== m) throw new MetricInputError(`truthWeights has ${weights.length} entries for ${m} truths: give one weight per truth`);
  let sum = 0;
  for (const w of weights) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new MetricInputError(`truthWeights must be finite and ≥ 0, got ${w}`);
    sum += w;
  }
  if (Math.abs(sum - 1) > 1e-6) throw new MetricInputError(`truthWeights must sum to 1, they sum to ${sum}`);
  return Float64Array.from(weights);
}
