import { MetricInputError, type LabelMap } from './label-map.js';
import { checkSamples, checkTruths, isProbabilityMap, truthIgnoreMask, type ProbabilityMap, type SampleSet } from './probability-map.js';

export interface CalibrationErrorOptions {
  /** The class whose predicted probability is calibrated. Default 1 (the foreground). */
  classId?: number;
  /** Equal-width bins on [0, 1]. Default 10. */
  bins?: number;
  /** Pixels carrying this label in any truth are left out. */
  ignoreLabel?: number;
  /** Classes of probability-map samples; default their `channels`. */
  numClasses?: number;
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  /** Pixels whose prediction fell in this bin. */
  count: number;
  /** NaN for an empty bin. */
  meanPrediction: number;
  meanTarget: number;
}

/**
 * Expected calibration error of the pixel-wise probability of `classId`: the prediction is the
 * fraction of samples labelling the pixel `classId` (or their mean probability of it), the target
 * the fraction of graders that did. ECE = Σ_b (n_b / N)·|mean prediction_b − mean target_b| over
 * equal-width bins on [0, 1] (a prediction of exactly 1 falls in the last bin). In [0, 1]; NaN when
 * every pixel is ignored.
 */
export function expectedCalibrationError(samples: SampleSet, truths: LabelMap[], opts: CalibrationErrorOptions = {}): number {
  const bins = reliabilityBins(samples, truths, opts);
  const total = bins.reduce((a, b) => a + b.count, 0);
  if (total === 0) return NaN;
  let ece = 0;
  for (const b of bins) if (b.count > 0) ece += (b.count / total) * Math.abs(b.meanPrediction - b.meanTarget);
  return ece;
}

/** The reliability diagram behind `expectedCalibrationError`. */
export function reliabilityBins(samples: SampleSet, truths: LabelMap[], opts: CalibrationErrorOptions = {}): ReliabilityBin[] {
  const classId = opts.classId ?? 1;
  const nBins = opts.bins ?? 10;
  if (!Number.isInteger(classId) || classId < 0) throw new MetricInputError(`classId must be a non-negative integer, got ${classId}`);
  if (!Number.isInteger(nBins) || nBins < 1) throw new MetricInputError(`bins must be a positive integer, got ${nBins}`);
  const first = samples[0];
  const numClasses = opts.numClasses ?? (first && isProbabilityMap(first) ? first.channels : Number.MAX_SAFE_INTEGER);
  if (classId >= numClasses) throw new MetricInputError(`classId ${classId} is not below numClasses ${numClasses}`);
  const { pixels, probabilities } = checkSamples(samples, numClasses);
  checkTruths(truths, samples);
  const ignore = truthIgnoreMask(truths, opts.ignoreLabel, pixels);
  const count = new Float64Array(nBins);
  const sumPred = new Float64Array(nBins);
  const sumTarget = new Float64Array(nBins);
  const n = samples.length;
  const m = truths.length;
  for (let p = 0; p < pixels; p++) {
    if (ignore?.[p]) continue;
    let pred = 0;
    if (probabilities) {
      for (const s of samples as readonly ProbabilityMap[]) pred += s.data[p * numClasses + classId]!;
    } else {
      for (const s of samples as readonly LabelMap[]) if (s.data[p] === classId) pred++;
    }
    pred /= n;
    let target = 0;
    for (const t of truths) if (t.data[p] === classId) target++;
    target /= m;
    const b = Math.min(nBins - 1, Math.floor(pred * nBins));
    count[b]! += 1;
    sumPred[b]! += pred;
    sumTarget[b]! += target;
  }
  return Array.from({ length: nBins }, (_, b) => ({
    lower: b / nBins,
    upper: (b + 1) / nBins,
    count: count[b]!,
    meanPrediction: count[b] ? sumPred[b]! / count[b]! : NaN,
    meanTarget: count[b] ? sumTarget[b]! / count[b]! : NaN,
  }));
}
