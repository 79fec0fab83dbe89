import * as tf from '@tensorflow/tfjs-core';
import { $ } from './dom.js';
import { checkPictureFits, imageTensor } from './picture.js';
import { decodeMaskPng } from './png.js';
import { drawOverlay } from './render.js';
import { drawScoreChart, type ScoreRow } from './score-chart.js';
import { hasLatentParts, state } from './state.js';
import { act } from './status.js';

// Assess an annotation: the user draws (pointer or keyboard) and the Prob. U-Net scores it among the graders'.

/** The keyboard brush's position, in image pixels. */
let cursor = { x: 0, y: 0 };

export function redrawDrawing(): void {
  const pic = state.picture;
  if (!pic || !state.drawing) return;
  const c = $<HTMLCanvasElement>('draw-canvas');
  drawOverlay(c, pic, state.drawing);
  if (document.activeElement === c) {
    const ctx = c.getContext('2d')!;
    ctx.strokeStyle = '#00e5ff';
    ctx.lineWidth = 0.5;
    const r = Number($<HTMLInputElement>('brush-size').value) || 0;
    ctx.strokeRect(cursor.x - r, cursor.y - r, 2 * r + 1, 2 * r + 1);
  }
}

function paint(x: number, y: number, erase: boolean): void {
  const pic = state.picture;
  if (!pic || !state.drawing) return;
  const r = Math.max(0, Math.min(8, Math.round(Number($<HTMLInputElement>('brush-size').value) || 0)));
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const yy = y + dy;
      const xx = x + dx;
      if (dx * dx + dy * dy > r * r + r || yy < 0 || xx < 0 || yy >= pic.height || xx >= pic.width) continue;
      state.drawing[yy * pic.width + xx] = erase ? 0 : 1;
    }
  }
  redrawDrawing();
}

function setupDrawing(): void {
  const c = $<HTMLCanvasElement>('draw-canvas');
  let down = false;
  const at = (e: PointerEvent) => {
    const rect = c.getBoundingClientRect();
    return { x: Math.floor(((e.clientX - rect.left) / rect.width) * c.width), y: Math.floor(((e.clientY - rect.top) / rect.height) * c.height) };
  };
  const erase = () => $<HTMLInputElement>('erase-mode').checked;
  c.addEventListener('pointerdown', (e) => {
    down = true;
    c.setPointerCapture(e.pointerId);
    cursor = at(e);
    paint(cursor.x, cursor.y, erase());
  });
  c.addEventListener('pointermove', (e) => {
    if (!down) return;
    cursor = at(e);
    paint(cursor.x, cursor.y, erase());
  });
  c.addEventListener('pointerup', () => (down = false));
  c.addEventListener('keydown', (e) => {
    const pic = state.picture;
    if (!pic) return;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const m = moves[e.key];
    if (m) {
      cursor = { x: Math.max(0, Math.min(pic.width - 1, cursor.x + m[0])), y: Math.max(0, Math.min(pic.height - 1, cursor.y + m[1])) };
      redrawDrawing();
    } else if (e.key === ' ') paint(cursor.x, cursor.y, erase());
    else if (e.key === 'Delete' || e.key === 'Backspace') paint(cursor.x, cursor.y, true);
    else return;
    e.preventDefault();
  });
  c.addEventListener('focus', redrawDrawing);
  c.addEventListener('blur', redrawDrawing);
}

async function scoreAction(): Promise<void> {
  const model = state.prob?.model;
  const pic = state.picture;
  if (!hasLatentParts(model)) throw new Error('scoring needs a Prob. U-Net (the deterministic U-Net has no ELBO): load one');
  if (!pic || !state.drawing) throw new Error('choose an image first');
  checkPictureFits(pic);
  const annotations = [state.drawing, ...state.graders];
  const names = ['your annotation', ...state.graders.map((_, i) => `grader ${i + 1}`)];
  const hw = pic.height * pic.width;
  const images = tf.tidy(() => tf.tile(imageTensor(pic), [annotations.length, 1, 1, 1]) as tf.Tensor4D);
  const labelData = new Int32Array(annotations.length * hw);
  annotations.forEach((a, i) => labelData.set(a, i * hw));
  const labels = tf.tensor3d(labelData, [annotations.length, pic.height, pic.width], 'int32');
  try {
    const score = await model.scoreAnnotation(images, labels, { samples: 16, seed: 0 });
    const rows: ScoreRow[] = names.map((name, i) => ({ name, elbo: score.elbo[i]!, logLikelihood: score.logLikelihood[i]!, kl: score.kl[i]! }));
    const tbody = $('score-table').querySelector('tbody')!;
    tbody.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        if (r.name === 'your annotation') tr.className = 'yours';
        for (const v of [r.name, r.elbo.toFixed(2), r.logLikelihood.toFixed(2), r.kl.toFixed(2)]) {
          const td = document.createElement(tr.children.length === 0 ? 'th' : 'td');
          if (tr.children.length === 0) td.setAttribute('scope', 'row');
          td.textContent = v;
          tr.append(td);
        }
        return tr;
      }),
    );
    drawScoreChart($<HTMLCanvasElement>('score-chart'), rows);
  } finally {
    tf.dispose([images, labels]);
  }
}

/** The brush, its buttons, the mask file and the score button. */
export function wireAnnotatePanel(): void {
  setupDrawing();
  $('clear-drawing').addEventListener('click', () => {
    state.drawing?.fill(0);
    redrawDrawing();
  });
  $('copy-grader').addEventListener('click', () => {
    if (state.drawing && state.graders[0]) state.drawing.set(state.graders[0]);
    redrawDrawing();
  });
  $('mask-file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    const pic = state.picture;
    if (!file) return;
    void act(`opening ${file.name}`, async () => {
      if (!pic) throw new Error('choose an image first');
      state.drawing = await decodeMaskPng(file, pic.height, pic.width);
      redrawDrawing();
    }).finally(() => (input.value = ''));
  });
  $('score-button').addEventListener('click', () => act('scoring the annotation', scoreAction));
}
