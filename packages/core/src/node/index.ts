export { loadCheckpoint, saveCheckpoint, writeFileAtomic } from './checkpoint-file.js';
