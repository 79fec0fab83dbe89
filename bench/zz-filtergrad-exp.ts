// Experiment (not committed): filter gradient as one big VALID conv vs im2col + matmul, on wasm.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@probunet/backends';
import { conv2dFilterGrad } from '@probunet/core';
tf.env().set('PROD', true);
await initBackend('wasm');
function im2colGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, ci] = x.shape;
    const co = dy.shape[3];
    const p = (k - 1) / 2;
    const xp = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
    const cols: tf.Tensor[] = [];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) cols.push(tf.slice(xp, [0, i, j, 0], [n, h, w, ci]));
    const patches = tf.reshape(tf.stack(cols, 3), [n * h * w, k * k * ci]); // [NHW, k*k*Ci]
    const g = tf.matMul(patches, tf.reshape(dy, [n * h * w, co]), true, false); // [k*k*Ci, Co]
    return tf.reshape(g, [k, k, ci, co]) as tf.Tensor4D;
  });
}
for (const [n, s, ci, co] of [[8, 128, 32, 32], [8, 64, 64, 64], [8, 32, 128, 128], [8, 16, 192, 192], [8, 128, 96, 32]]) {
  const x = tf.randomNormal([n, s, s, ci]) as tf.Tensor4D;
  const dy = tf.randomNormal([n, s, s, co]) as tf.Tensor4D;
  const time = async (f: () => tf.Tensor) => { const r = f(); await r.data(); r.dispose(); const t0 = performance.now(); const r2 = f(); await r2.data(); r2.dispose(); return performance.now() - t0; };
  const a = await time(() => conv2dFilterGrad(x, dy, 3));
  const b = await time(() => im2colGrad(x, dy, 3));
  const fwd = await time(() => tf.conv2d(x, tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D, 1, 'same'));
  const ra = await conv2dFilterGrad(x, dy, 3).data(); const rb = await im2colGrad(x, dy, 3).data();
  let num = 0, den = 0; for (let i = 0; i < ra.length; i++) { num += (ra[i]! - rb[i]!) ** 2; den += ra[i]! ** 2; }
  console.log(JSON.stringify({ shape: [n, s, s, ci, co], bigConvMs: Math.round(a), im2colMs: Math.round(b), forwardConvMs: Math.round(fwd), relErr: Math.sqrt(num / den) }));
  tf.dispose([x, dy]);
}
