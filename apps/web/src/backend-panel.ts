import * as tf from '@tensorflow/tfjs-core';
import { startBackend, type BackendChoice } from './backend.js';
import { $ } from './dom.js';
import { disposeLatent } from './latent-panel.js';
import { restoreModel } from './models.js';
import { acceptOther, acceptProb, progress, renderModels } from './models-panel.js';
import { state } from './state.js';
import { act } from './status.js';

// Backend: which one runs, why each other one does not, and a select that switches it.

export function renderBackend(): void {
  const s = state.backend;
  const el = $('backend-status');
  if (!s) {
    el.textContent = 'no backend running';
    el.dataset.backend = '';
    return;
  }
  const running = tf.getBackend();
  el.dataset.backend = running;
  el.textContent = `Running on ${running}${s.adapter ? ` (adapter: ${s.adapter})` : ''}${s.choice === 'auto' ? ', chosen automatically' : ', as you chose'}`;
  const list = $('backend-attempts');
  list.replaceChildren(
    ...s.attempts
      .filter((a) => a.status !== 'selected')
      .map((a) => {
        const li = document.createElement('li');
        li.dataset.backend = a.name;
        li.textContent = `${a.name}: ${a.status === 'failed' ? 'failed' : 'not used'} — ${a.reason ?? 'not tried'}`;
        return li;
      }),
    ...s.notes.map((n) => {
      const li = document.createElement('li');
      li.textContent = `note: ${n}`;
      return li;
    }),
  );
}

async function switchBackend(choice: BackendChoice): Promise<void> {
  disposeLatent();
  // Models are rebuilt from their bytes on the new backend: no tensor stays on the old one.
  const bytes = { prob: state.prob?.bytes, det: state.det?.bytes, probName: state.prob?.name, detName: state.det?.name };
  state.prob?.model.dispose();
  state.det?.model.dispose();
  state.prob = null;
  state.det = null;
  state.backend = null;
  try {
    state.backend = await startBackend(choice);
  } finally {
    renderBackend();
  }
  if (bytes.prob) state.prob = restoreModel(bytes.prob, bytes.probName!, acceptProb, progress);
  if (bytes.det) state.det = restoreModel(bytes.det, bytes.detName!, acceptOther, progress);
  renderModels();
}

export function wireBackendPanel(): void {
  const backendSelect = $<HTMLSelectElement>('backend-select');
  backendSelect.addEventListener('change', () => act(`starting ${backendSelect.value}`, () => switchBackend(backendSelect.value as BackendChoice)));
}
