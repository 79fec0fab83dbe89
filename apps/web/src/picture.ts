import * as tf from '@tensorflow/tfjs-core';
import { $ } from './dom.js';
import { drawOverlay, type Picture } from './render.js';
import { state } from './state.js';

/** The picture as a [1, H, W, 1] batch. Caller owns the result. */
export function imageTensor(pic: Picture): tf.Tensor4D {
  return tf.tensor4d(pic.image, [1, pic.height, pic.width, 1]);
}

/** Checks an image against what the loaded models take; the message says what they expect. */
export function checkPictureFits(pic: Picture): void {
  const m = state.prob?.model ?? state.det?.model;
  if (!m) return;
  const spec = m.inputSpec;
  const f = spec.downsamplingFactor;
  if (pic.height % f !== 0 || pic.width % f !== 0) {
    throw new Error(`this image is ${pic.width}×${pic.height}; the model halves it ${Math.log2(f)} times, so width and height must be multiples of ${f} (the bundled models were trained on 32×32)`);
  }
}

/** One overlay per label map, captioned `label 1`, `label 2`, …; the grid's data-count says how many. */
export function fillGrid(gridId: string, pic: Picture, samples: Uint8Array[], label: string, className = 'pic sample'): void {
  const grid = $(gridId);
  grid.replaceChildren(
    ...samples.map((s, i) => {
      const fig = document.createElement('figure');
      const c = document.createElement('canvas');
      c.className = className;
      drawOverlay(c, pic, s);
      const cap = document.createElement('figcaption');
      cap.textContent = `${label} ${i + 1}`;
      fig.append(c, cap);
      return fig;
    }),
  );
  grid.dataset.count = String(samples.length);
}

/** Empties the samples, the comparison note, the timings and the score table (they belong to another image or model). */
export function clearOutputs(): void {
  for (const id of ['sample-grid', 'det-grid']) {
    $(id).replaceChildren();
    delete $(id).dataset.count;
  }
  $('det-note').textContent = '';
  $('sample-time').textContent = '';
  $('score-table').querySelector('tbody')!.replaceChildren();
}
