/**
 * `npx tsx bench/webgpu-layers.ts [--batch 2] [--size 64] [--reps 3] [--only REGEX]`: the WebGPU convolution
 * kernels layer by layer against tfjs-webgpu's stock ones (bench/webgpu-layer-times.ts), on the
 * adapter initBackend('webgpu') finds (here: Dawn on Mesa's llvmpipe). Run by `npm run bench`
 * when its --backends name webgpu. Prints one JSON document: adapter, per layer and pass ms for
 * both kernels and the ratio stock / ours, and the sums over the step (each shape counted as often
 * as the step runs it). --only keeps the rows whose "shape pass" matches, e.g. `'×1→32 filterGradient'`.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '@probunet/backends';
import { webgpuLayerTimes } from './webgpu-layer-times.js';
import { machineInfo } from './bench-utils.js';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '2' }, size: { type: 'string', default: '64' }, reps: { type: 'string', default: '3' }, only: { type: 'string' } } });
const startedAt = new Date().toISOString();
const report = await initBackend('webgpu');
const times = await webgpuLayerTimes({ batch: Number(values.batch), size: Number(values.size), reps: Number(values.reps), ...(values.only === undefined ? {} : { only: new RegExp(values.only) }), log: (l) => process.stderr.write(`${l}\n`) });
console.log(JSON.stringify({ benchmark: 'webgpu-layers', date: startedAt, machine: machineInfo(), backend: report.selected, adapter: report.notes.find((n) => n.startsWith('Dawn')) ?? null, ...times }));
