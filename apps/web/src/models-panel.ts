import type { CheckpointableModel } from '@probunet/core';
import { $ } from './dom.js';
import { disposeLatent, renderSliders } from './latent-panel.js';
import { readFileBytes, restoreModel, type LoadedModel, type Progress } from './models.js';
import { clearOutputs } from './picture.js';
import { hasLatentParts, state } from './state.js';
import { act } from './status.js';

// Models: the Prob. U-Net slot and the comparison slot, filled at start, from a file or by a drop.

export const progress: Progress = (stage, loaded, total) => {
  const bar = $<HTMLProgressElement>('load-progress');
  if (total) {
    bar.max = total;
    bar.value = loaded;
  } else bar.removeAttribute('value');
  const size = (b: number) => (b < 10_240 ? `${b} B` : `${(b / 1024).toFixed(0)} KiB`);
  $('load-text').textContent = `${stage}: ${size(loaded)}${total ? ` of ${size(total)}` : ''}`;
};

/** The Prob. U-Net slot takes a model with a latent space; the comparison slot any other. */
export const acceptProb = (m: CheckpointableModel) =>
  hasLatentParts(m) ? null : `this checkpoint holds a "${m.kind}" model, which has no latent space; the Prob. U-Net slot needs one (a "prob-unet")`;
export const acceptOther = (m: CheckpointableModel) =>
  !hasLatentParts(m) ? null : `this checkpoint holds a "${m.kind}" model with a latent space; the comparison slot needs another model type`;

function describeModel(m: LoadedModel | null, role: string): string {
  if (!m) return `${role}: none`;
  const params = m.model.parameters().reduce((n, p) => n + p.variable.size, 0);
  return `${role}: ${m.model.kind} from ${m.name} (${params.toLocaleString('en')} parameters, ${(m.bytes.byteLength / 1024).toFixed(0)} KiB)`;
}

export function renderModels(): void {
  $('model-info').textContent = [describeModel(state.prob, 'Prob. U-Net'), describeModel(state.det, 'comparison')].join(' · ');
  renderSliders();
}

/** Opens a checkpoint the user chose: a model with a latent space replaces the Prob. U-Net, any other the comparison model. */
async function openCheckpoint(file: File): Promise<void> {
  const bytes = await readFileBytes(file, progress);
  // A small probe restore tells the type; restoreModel checks format, version, CRCs and shapes.
  let loaded: LoadedModel;
  try {
    loaded = restoreModel(bytes, file.name, () => null, progress);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nOpen a .ckpt written by probunet train (or saveCheckpoint).`);
  }
  if (hasLatentParts(loaded.model)) {
    state.prob?.model.dispose();
    state.prob = loaded;
  } else {
    state.det?.model.dispose();
    state.det = loaded;
  }
  disposeLatent();
  renderModels();
  clearOutputs();
}

/** The file picker and the drop zone (Enter or Space on it opens the picker). */
export function wireModelsPanel(): void {
  $('checkpoint-file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) void act(`opening ${file.name}`, () => openCheckpoint(file)).finally(() => (input.value = ''));
  });
  const drop = $('drop-zone');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void act(`opening ${file.name}`, () => openCheckpoint(file));
  });
  drop.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      $('checkpoint-file').click();
    }
  });
}
