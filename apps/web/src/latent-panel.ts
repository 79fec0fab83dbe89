import * as tf from '@tensorflow/tfjs-core';
import type { PreparedFusion } from '@probunet/core';
import { $ } from './dom.js';
import { checkPictureFits, imageTensor } from './picture.js';
import { drawOverlay } from './render.js';
import { hasLatentParts, state, type LatentState } from './state.js';
import { showError, showMemory } from './status.js';

// Latent space: the image's features are prepared once; each slider move runs only the fusion head.

export function disposeLatent(): void {
  state.latent?.prepared.dispose();
  state.latent = null;
}

/** One slider per latent dimension of the loaded Prob. U-Net, or a note that none is loaded. */
export function renderSliders(): void {
  const box = $('latent-sliders');
  const model = state.prob?.model;
  if (!hasLatentParts(model)) {
    box.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Load a Prob. U-Net to explore its latent space.' }));
    return;
  }
  const rows: HTMLElement[] = [];
  for (let d = 0; d < model.latentDim; d++) {
    const label = document.createElement('label');
    label.htmlFor = `latent-${d}`;
    label.textContent = `z${d + 1} (prior σ from μ)`;
    const input = Object.assign(document.createElement('input'), { type: 'range', id: `latent-${d}`, min: '-3', max: '3', step: '0.1', value: '0' });
    input.className = 'latent';
    const out = document.createElement('output');
    out.htmlFor.add(input.id);
    out.id = `latent-${d}-value`;
    out.textContent = '0.0';
    input.addEventListener('input', () => {
      out.textContent = Number(input.value).toFixed(1);
      scheduleLatent();
    });
    rows.push(label, input, out);
  }
  box.replaceChildren(...rows);
}

async function prepareLatent(): Promise<LatentState> {
  if (state.latent) return state.latent;
  const model = state.prob?.model;
  const pic = state.picture;
  if (!hasLatentParts(model)) throw new Error('load a Prob. U-Net to explore its latent space');
  if (!pic) throw new Error('choose an image first');
  checkPictureFits(pic);
  const x = imageTensor(pic);
  const [features, mean, logSigma] = tf.tidy(() => {
    const f = model.encoder.apply(x);
    const prior = model.prior.apply(x);
    return [f, prior.mean, tf.exp(prior.logSigma)];
  });
  x.dispose();
  // Fusion heads without `prepare` keep the features and rerun in full; they are freed with it.
  let prepared: PreparedFusion;
  if (model.fusion.prepare) {
    prepared = model.fusion.prepare(features);
    features.dispose();
  } else {
    prepared = { apply: (z) => model.fusion.apply(features, z), dispose: () => features.dispose() };
  }
  try {
    state.latent = { prepared, mean: (await mean.data()) as Float32Array, sigma: (await logSigma.data()) as Float32Array };
  } catch (err) {
    prepared.dispose();
    throw err;
  } finally {
    tf.dispose([mean, logSigma]);
  }
  return state.latent!;
}

/** Slider moves while a render runs collapse into one more render with the sliders' latest values. */
const schedule = { running: false, again: false, moves: 0 };

function scheduleLatent(): void {
  if (schedule.running) {
    schedule.again = true;
    return;
  }
  schedule.running = true;
  void (async () => {
    try {
      do {
        schedule.again = false;
        await renderLatent();
      } while (schedule.again);
    } catch (err) {
      showError(err);
    } finally {
      schedule.running = false;
    }
  })();
}

async function renderLatent(): Promise<void> {
  const pic = state.picture;
  if (!pic) return;
  const t0 = performance.now();
  const latent = await prepareLatent();
  const t = Array.from(document.querySelectorAll<HTMLInputElement>('input.latent'), (el) => Number(el.value));
  const z = t.map((ti, d) => latent.mean[d]! + ti * latent.sigma[d]!);
  const labels = tf.tidy(() => tf.argMax(latent.prepared.apply(tf.tensor2d(z, [1, z.length])), 3));
  let data: Uint8Array;
  try {
    data = Uint8Array.from(await labels.data());
  } finally {
    labels.dispose();
  }
  const ms = performance.now() - t0;
  drawOverlay($<HTMLCanvasElement>('latent-output'), pic, data);
  schedule.moves++;
  const el = $('latent-time');
  el.dataset.ms = ms.toFixed(1);
  el.dataset.moves = String(schedule.moves);
  showMemory();
  el.textContent = `z = μ + t·σ at t = [${t.map((v) => v.toFixed(1)).join(', ')}]: fusion head in ${ms.toFixed(1)} ms on ${tf.getBackend()}`;
}

/** Standard normal draws (Box–Muller): the sliders then show z = μ + t·σ ~ p(z|x). */
export function priorDraw(): void {
  for (const el of document.querySelectorAll<HTMLInputElement>('input.latent')) {
    const u = 1 - Math.random();
    const v = Math.random();
    const t = Math.max(-3, Math.min(3, Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
    el.value = t.toFixed(1);
    document.getElementById(`${el.id}-value`)!.textContent = Number(el.value).toFixed(1);
  }
  scheduleLatent();
}

export function resetLatent(): void {
  for (const el of document.querySelectorAll<HTMLInputElement>('input.latent')) {
    el.value = '0';
    document.getElementById(`${el.id}-value`)!.textContent = '0.0';
  }
  scheduleLatent();
}

/** The latent panel's buttons. */
export function wireLatentPanel(): void {
  $('prior-draw').addEventListener('click', priorDraw);
  $('latent-reset').addEventListener('click', resetLatent);
}
