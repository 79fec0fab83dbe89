export * from './ssn/index.js';
export * from './hierarchical/index.js';
export { successorsPlugin } from './plugin.js';
