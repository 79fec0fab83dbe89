// @probunet/metrics installed alone from its tarball: no TensorFlow.js anywhere, and the metrics
// give the values worked out by hand. Run with the app folder as the working directory.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { generalizedEnergyDistance, iou } from '@probunet/metrics';

assert.equal(existsSync('node_modules/@tensorflow'), false, 'node_modules/@tensorflow exists: @probunet/metrics pulled in TensorFlow.js');
await assert.rejects(import('@tensorflow/tfjs-core'), /Cannot find package/);

const map = (data) => ({ data, height: 2, width: 2 });
const a = map([1, 1, 0, 0]);
const b = map([1, 0, 1, 0]);
// Foreground: intersection 1 pixel, union 3 → 1/3.
assert.ok(Math.abs(iou(a, b, { classId: 1 }) - 1 / 3) < 1e-12);
// GED({a}, {a}) = 0: a distribution against itself.
assert.ok(Math.abs(generalizedEnergyDistance([a], [a]).ged) < 1e-12);
// d(a, b) = 1 − IoU averaged over classes 0 and 1 = 1 − (1/3 + 1/3)/2 = 2/3: GED = 2·2/3 − 0 − 0.
assert.ok(Math.abs(generalizedEnergyDistance([a], [b], { classes: [0, 1] }).ged - 4 / 3) < 1e-12);
// require() works too (Node ≥ 20.19 loads ES modules through require).
assert.equal(typeof createRequire(import.meta.url)('@probunet/metrics').iou, 'function');
console.log('metrics app: ok (no @tensorflow installed; IoU 1/3 and GED 4/3 by hand)');
