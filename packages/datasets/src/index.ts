export { indexedDataset, sampleFromDistribution, type Dataset, type DatasetSpec, type Example, type IndexedDataset, type Mode } from './example.js';
export { batches, prefetch, toTensors, type BatchOptions } from './batching.js';
export { createSyntheticLidc, DEFAULT_LESION_MODES, type LesionMode, type SyntheticLidcOptions } from './synthetic/lidc-like.js';
export { createSyntheticCityscapes, type SyntheticCityscapesOptions } from './synthetic/cityscapes-like.js';
export { CITYSCAPES_EVAL_CLASSES, flipDistribution } from './flips.js';
export { DataError, type SkipReport } from './errors.js';
export { centerCrop, resizeBilinear, resizeNearest } from './image-ops.js';
export { NdArray, PickleError, UNPICKLE_DEFAULTS, unpickle, type UnpickleOptions } from './pickle.js';
export { augmentExample, augmented, type AugmentOptions } from './augment.js';
