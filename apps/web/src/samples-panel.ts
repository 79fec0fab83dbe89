import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointableModel } from '@probunet/core';
import { uncertaintyMaps } from '@probunet/metrics';
import { renderBackend } from './backend-panel.js';
import { $ } from './dom.js';
import { checkPictureFits, fillGrid, imageTensor } from './picture.js';
import { drawScalarMap, type Picture } from './render.js';
import { state } from './state.js';
import { act } from './status.js';

// Samples: N of each loaded model, the Prob. U-Net's lesion frequency and entropy maps, and timings.

async function drawSamples(model: CheckpointableModel, pic: Picture, n: number): Promise<Uint8Array[]> {
  const x = imageTensor(pic);
  try {
    const s = model.sample(x, n);
    try {
      const data = await s.data();
      const hw = pic.height * pic.width;
      return Array.from({ length: n }, (_, i) => Uint8Array.from(data.subarray(i * hw, (i + 1) * hw)));
    } finally {
      s.dispose();
    }
  } finally {
    x.dispose();
  }
}

/** How many sample batches have been drawn (the page shows it; the browser test waits on it). */
let sampleBatches = 0;

const countDistinct = (maps: Uint8Array[]) => new Set(maps.map((m) => m.join(''))).size;

async function sampleAction(): Promise<void> {
  const pic = state.picture;
  if (!pic) throw new Error('choose an image first');
  if (!state.prob && !state.det) throw new Error('no model is loaded: open a checkpoint');
  checkPictureFits(pic);
  const input = $<HTMLInputElement>('sample-count');
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`the number of samples must be a whole number from 1 to 64, got "${input.value}"`);
  const backend = tf.getBackend();
  const lines: string[] = [];
  if (state.prob) {
    const t0 = performance.now();
    const samples = await drawSamples(state.prob.model, pic, n);
    const ms = performance.now() - t0;
    fillGrid('sample-grid', pic, samples, 'sample');
    const maps = uncertaintyMaps(samples.map((data) => ({ data, height: pic.height, width: pic.width })), { numClasses: state.prob.model.numClasses });
    const lesion = Float32Array.from({ length: pic.height * pic.width }, (_, p) => maps.frequencies[p * maps.numClasses + 1] ?? 0);
    drawScalarMap($<HTMLCanvasElement>('frequency-map'), pic.height, pic.width, lesion, 1);
    drawScalarMap($<HTMLCanvasElement>('entropy-map'), pic.height, pic.width, maps.entropy, Math.log(state.prob.model.numClasses));
    lines.push(`Prob. U-Net: ${n} samples in ${ms.toFixed(0)} ms on ${backend} (${countDistinct(samples)} distinct)`);
    $('sample-time').dataset.ms = ms.toFixed(1);
  }
  if (state.det) {
    const t0 = performance.now();
    const samples = await drawSamples(state.det.model, pic, n);
    const ms = performance.now() - t0;
    fillGrid('det-grid', pic, samples, state.det.model.kind);
    const distinct = countDistinct(samples);
    $('det-note').textContent = `${state.det.model.kind}: ${n} samples, ${distinct} distinct${distinct === 1 ? ' — one answer, however often you ask' : ''}`;
    lines.push(`${state.det.model.kind}: ${n} samples in ${ms.toFixed(0)} ms on ${backend}`);
  }
  $('sample-time').textContent = lines.join(' · ');
  sampleBatches++;
  $('sample-time').dataset.batches = String(sampleBatches);
  renderBackend();
}

export function wireSamplesPanel(): void {
  $('sample-button').addEventListener('click', () => act('drawing samples', sampleAction));
}
