export { MetricInputError, type LabelMap } from './label-map.js';
export { iou, type EmptyPair, type IoUOptions } from './iou.js';
export { type DistanceOptions } from './encoded-set.js';
export { generalizedEnergyDistance, type EnergyDistance, type EnergyDistanceOptions, type NanPairs } from './energy-distance.js';
export { hungarianMatchedIoU } from './matched-iou.js';
export { solveAssignment } from './hungarian.js';
export {
  CITYSCAPES_FLIPS,
  checkFlips,
  expectedTotalVariation,
  flipModeKeys,
  flipModeProbability,
  pearsonCorrelation,
  recordImageFlips,
  summarizeFlipCalibration,
  type ClassFlipFraction,
  type FlipCalibration,
  type FlipRecordOptions,
  type FlipSpec,
  type FullModeFrequency,
  type ImageFlipRecord,
} from './calibration.js';
export { MetricAccumulator, type MetricSummary } from './accumulator.js';
export { type ProbabilityMap, type SampleSet } from './probability-map.js';
export { normalizedCrossCorrelation, type NormalizedCrossCorrelationOptions } from './normalized-cross-correlation.js';
export { expectedCalibrationError, reliabilityBins, type CalibrationErrorOptions, type ReliabilityBin } from './expected-calibration-error.js';
export { uncertaintyMaps, type UncertaintyMaps, type UncertaintyMapsOptions } from './uncertainty-maps.js';
export { solveTransport } from './optimal-transport.js';
export { transportMatchedIoU, type MatchedIoUOptions } from './transport-matched-iou.js';
export { pairwiseDistances } from './pairwise-distances.js';
