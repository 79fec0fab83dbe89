import { distanceMatrix } from './distance-matrix.js';
import { encodeSet, type DistanceOptions } from './encoded-set.js';
import { MetricInputError, type LabelMap } from './label-map.js';

export interface EnergyDistanceOptions extends DistanceOptions {
  /**
   * Probability of each truth (e.g. the 32 Cityscapes flip modes); must sum to 1. Default uniform.
   * With weights, means over truths become weighted sums.
   */
  truthWeights?: number[];
  /**
   * What a NaN pair distance does (only under emptyPair 'nan': no evaluated class in either map).
   * - `'propagate'` (default): the authors' Cityscapes code. The sample–truth and sample–sample
   *   terms are plain means, so one NaN pair makes the image's GED NaN (a dataset mean then drops
   *   the image and counts it: `MetricAccumulator`); the truth–truth term skips NaN pairs
   *   (weights renormalised over the rest).
   * - `'skip'`: every term skips NaN pairs and renormalises the remaining weights.
   */
  nanPairs?: NanPairs;
}

export type NanPairs = 'propagate' | 'skip';

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
 * follow `nanPairs`; a term with no finite pair is NaN.
 */
export function generalizedEnergyDistance(samples: LabelMap[], truths: LabelMap[], opts: EnergyDistanceOptions = {}): EnergyDistance {
  const weights = checkWeights(opts.truthWeights, truths.length);
  const skip = checkNanPairs(opts.nanPairs) === 'skip';
  const enc = encodeSet(samples, truths, opts);
  const n = samples.length;
  const uniformN = new Float64Array(n).fill(1 / n);
  const cross = weightedMean(distanceMatrix(enc, enc.samples, enc.truths), uniformN, weights, skip);
  const ss = weightedMean(distanceMatrix(enc, enc.samples, enc.samples, true), uniformN, uniformN, skip);
  const truthDiversity = weightedMean(distanceMatrix(enc, enc.truths, enc.truths, true), weights, weights, true);
  return { ged: 2 * cross - ss - truthDiversity, crossDistance: cross, sampleDiversity: ss, truthDiversity };
}

/**
 * Σ_ij a_i b_j M_ij / Σ a_i b_j; with `skipNaN` over the finite entries only, else NaN as soon as
 * one entry is NaN (a plain mean).
 */
function weightedMean(matrix: Float64Array, a: ArrayLike<number>, b: ArrayLike<number>, skipNaN: boolean): number {
  let sum = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const v = matrix[i * b.length + j]!;
      if (Number.isNaN(v)) {
        if (skipNaN) continue;
        return NaN;
      }
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

function checkNanPairs(v: unknown): NanPairs {
  if (v === undefined) return 'propagate';
  if (v !== 'propagate' && v !== 'skip') throw new MetricInputError(`nanPairs must be 'propagate' or 'skip', got ${JSON.stringify(v)}`);
  return v;
}
