export { openLidc, type LidcDataset, type LidcOptions } from './lidc.js';
export { AUTHORS_VALIDATION_CITIES, LABEL_ID_TO_TRAIN_ID, openCityscapes, type CityscapesDataset, type CityscapesOptions } from './cityscapes.js';
export { readPng, type DecodedPng } from './png.js';
export { writeLidcFixture, writeCityscapesFixture } from './fixtures.js';
export { openLidcPickle, writeLidcPickleFixture, type LidcPickleDataset, type LidcPickleOptions } from './lidc-pickle.js';
