export { evaluateSampler, type Evaluation, type EvaluationOptions, type EvaluationProgress } from './evaluate-sampler.js';
export { mergeEvaluations } from './merge.js';
export { evaluationFromJSON, evaluationToJSON } from './serialize.js';
export {
  hashExampleIds,
  protocolDifferences,
  type MetricConventions,
  type ModelDescription,
  type Protocol,
  type ProtocolCard,
} from './protocol-card.js';
export { aggregate, summarize, type Aggregates, type FlipCalibration, type ModeShare, type SampleCountSummary, type Summary } from './aggregate.js';
export { METRIC_NAMES, type ImageResult, type MetricName } from './image-metrics.js';
export { shardRange } from './preflight.js';
export {
  assessAnnotations,
  type AnnotationAssessment,
  type AnnotationAssessmentOptions,
  type AnnotationRecord,
  type AnnotationScorer,
} from './assess-annotations.js';
export { EvaluationError } from './errors.js';
export { EVALUATION_VERSION } from './version.js';
