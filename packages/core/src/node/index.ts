export { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
export { writeFileAtomic } from './atomic-write.js';
