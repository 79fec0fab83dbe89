export { viridis } from './viridis.js';
export { VIRIDIS_TABLE } from './viridis-table.js';
