export { DeterministicUNet, type DeterministicUNetConfig } from './deterministic-unet.js';
