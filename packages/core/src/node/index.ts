export { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
export { removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
