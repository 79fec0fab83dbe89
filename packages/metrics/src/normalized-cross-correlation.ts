import { MetricInputError, type LabelMap } from './label-map.js';
import { checkNumClasses, checkSamples, checkTruths, classFrequencies, meanProbabilities, truthIgnoreMask, type ProbabilityMap, type SampleSet } from './probability-map.js';

export interface NormalizedCrossCorrelationOptions {
  numClasses: number;
  /** Pixels carrying this label in any truth are left out of both maps. */
  ignoreLabel?: number;
}

/** ε inside the log of the pixel-wise cross-entropy, as in PHiSeg's code. */
const EPS = 1e-8;

/**
 * S_NCC (Baumgartner et al. 2019, PHiSeg): how well the model's uncertainty sits where the graders
 * disagree. Per pixel, E_ss = E_i[CE(s̄, s_i)] (cross-entropy of each sample against the samples'
 * mean s̄) and, for each grader j, E_sy_j = E_i[CE(y_j, s_i)], with CE(t, s) = −Σ_c t_c log(s_c + ε).
 * The result is the mean over graders of the zero-normalised cross-correlation of the two maps
 * (population standard deviations).
 *
 * Samples are label maps (one-hot) or per-sample class probabilities. The correlation with a
 * constant map is undefined, so a grader whose map, or an E_ss map, is constant over the evaluated
 * pixels gives NaN; so does a deterministic model (all samples equal makes E_ss constant). Like
 * PHiSeg's numpy code, one NaN grader makes the result NaN.
 * @returns a number in [−1, 1], or NaN
 */
export function normalizedCrossCorrelation(samples: SampleSet, truths: LabelMap[], opts: NormalizedCrossCorrelationOptions): number {
  const numClasses = checkNumClasses(opts?.numClasses);
  const { pixels, probabilities } = checkSamples(samples, numClasses);
  checkTruths(truths, samples);
  const ignore = truthIgnoreMask(truths, opts.ignoreLabel, pixels);
  const m = truths.length;
  let count = 0;
  const valid = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) if (!ignore?.[p]) valid[count++] = p;
  if (count === 0) return NaN;
  const ess = new Float64Array(count);
  const esy = Array.from({ length: m }, () => new Float64Array(count));
  const mean = probabilities ? meanProbabilities(samples as readonly ProbabilityMap[], pixels, numClasses) : classFrequencies(samples as readonly LabelMap[], pixels, numClasses);
  // meanLog[q] = E_i[log(s_i(c) + ε)]; for one-hot samples it follows from the class frequency.
  const meanLog = probabilities ? meanLogProbabilities(samples as readonly ProbabilityMap[], pixels, numClasses) : new Float64Array(mean.length);
  if (!probabilities) {
    const logOne = Math.log(1 + EPS);
    const logEps = Math.log(EPS);
    for (let q = 0; q < mean.length; q++) meanLog[q] = mean[q]! * logOne + (1 - mean[q]!) * logEps;
  }
  for (let k = 0; k < count; k++) {
    const p = valid[k]!;
    const base = p * numClasses;
    let e = 0;
    for (let c = 0; c < numClasses; c++) e -= mean[base + c]! * meanLog[base + c]!;
    ess[k] = e;
    for (let j = 0; j < m; j++) {
      const g = truths[j]!.data[p]!;
      if (!(g >= 0 && g < numClasses && Number.isInteger(g))) {
        throw new MetricInputError(`truths[${j}] has the label ${g} at pixel ${p}; labels must be integers in [0, ${numClasses}) or the ignoreLabel`);
      }
      esy[j]![k] = -meanLog[base + g]!;
    }
  }
  let sum = 0;
  for (const e of esy) sum += zeroNormalizedCorrelation(ess, e);
  return sum / m;
}

/** Pearson correlation with population standard deviations; NaN when either map is constant. */
export function zeroNormalizedCorrelation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (isConstant(a) || isConstant(b)) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  // Rounding can push |r| a hair past 1.
  return Math.max(-1, Math.min(1, cov / Math.sqrt(va * vb)));
}

function isConstant(a: Float64Array): boolean {
  for (let i = 1; i < a.length; i++) if (a[i] !== a[0]) return false;
  return true;
}

/** E_i[log(p_i(c) + ε)] per pixel and class, class fastest. */
function meanLogProbabilities(samples: readonly ProbabilityMap[], pixels: number, numClasses: number): Float64Array {
  const out = new Float64Array(pixels * numClasses);
  for (const s of samples) for (let q = 0; q < out.length; q++) out[q]! += Math.log(s.data[q]! + EPS);
  for (let q = 0; q < out.length; q++) out[q]! /= samples.length;
  return out;
}
