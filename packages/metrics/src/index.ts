export { MetricInputError, type LabelMap } from './label-map.js';
export { iou, type EmptyPair, type IoUOptions } from './iou.js';
export { type DistanceOptions } from './encoded-set.js';
export { generalizedEnergyDistance, type EnergyDistance, type EnergyDistanceOptions } from './energy-distance.js';
export { hungarianMatchedIoU } from './matched-iou.js';
export { solveAssignment } from './hungarian.js';
export {
  CITYSCAPES_FLIPS,
  CalibrationAccumulator,
  flipCalibration,
  type CalibrationOptions,
  type FlipCounts,
  type FlipSpec,
  type ModeFrequency,
} from './calibration.js';
export { MetricAccumulator, type MetricSummary } from './accumulator.js';
