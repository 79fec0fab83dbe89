/**
 * The page's entry: wires each panel's controls and starts the backend and the bundled models. Each
 * panel lives in its own module (`*-panel.ts`); what they share is in `state.ts`.
 */
import { wireAnnotatePanel } from './annotate-panel.js';
import { BROWSER_BACKENDS, startBackend, type BackendChoice } from './backend.js';
import { renderBackend, wireBackendPanel } from './backend-panel.js';
import { $ } from './dom.js';
import { showExample, wireImagePanel } from './image-panel.js';
import { wireLatentPanel } from './latent-panel.js';
import { fetchBytes, restoreModel } from './models.js';
import { acceptOther, acceptProb, progress, renderModels, wireModelsPanel } from './models-panel.js';
import { drawColourBar } from './render.js';
import { wireSamplesPanel } from './samples-panel.js';
import { state } from './state.js';
import { act, showError } from './status.js';

const BUNDLED = { prob: './models/prob-unet.ckpt', det: './models/deterministic-unet.ckpt' };

function wire(): void {
  wireBackendPanel();
  wireModelsPanel();
  wireImagePanel();
  wireSamplesPanel();
  wireLatentPanel();
  wireAnnotatePanel();
  for (const bar of document.querySelectorAll<HTMLCanvasElement>('canvas.bar')) drawColourBar(bar);
}

async function start(): Promise<void> {
  wire();
  const params = new URLSearchParams(location.search);
  const requested = params.get('backend') ?? 'auto';
  if (requested !== 'auto' && !(BROWSER_BACKENDS as readonly string[]).includes(requested)) {
    showError(`unknown backend "${requested}" in the address; choose auto, ${BROWSER_BACKENDS.join(', ')}`);
    return;
  }
  $<HTMLSelectElement>('backend-select').value = requested;
  await act('starting', async () => {
    state.backend = await startBackend(requested as BackendChoice).finally(renderBackend);
    renderBackend();
    await showExample(0);
    const [probBytes, detBytes] = [await fetchBytes(BUNDLED.prob, progress), await fetchBytes(BUNDLED.det, progress)];
    state.prob = restoreModel(probBytes, 'prob-unet.ckpt (bundled)', acceptProb, progress);
    state.det = restoreModel(detBytes, 'deterministic-unet.ckpt (bundled)', acceptOther, progress);
    renderModels();
  });
  document.body.dataset.ready = 'true';
}

window.addEventListener('error', (e) => showError(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason));
void start();
