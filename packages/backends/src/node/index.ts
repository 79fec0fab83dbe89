export { createWorkerGradients, type WorkerGradients, type WorkerGradientsOptions } from './worker-gradients.js';
export { shardSeed, type PluginModule } from './protocol.js';
