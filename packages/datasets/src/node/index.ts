export { LIDC_MAX_PNG_BYTES, lidcSplits, openLidc, type LidcDataset, type LidcOptions } from './lidc.js';
export { AUTHORS_VALIDATION_CITIES, CITYSCAPES_MAX_PNG_BYTES, LABEL_ID_TO_TRAIN_ID, openCityscapes, type CityscapesDataset, type CityscapesOptions } from './cityscapes.js';
export { PNG_DEFAULT_MAX_DECODED_BYTES, readPng, type DecodedPng, type ReadPngOptions } from './png.js';
export { writeLidcFixture, writeCityscapesFixture } from './fixtures.js';
export { openLidcPickle, writeLidcPickleFixture, type LidcPickleDataset, type LidcPickleOptions } from './lidc-pickle.js';
