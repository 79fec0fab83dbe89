export { DataParallelTrainer, type DataParallelOptions } from './data-parallel.js';
export { shardSeed } from './protocol.js';
