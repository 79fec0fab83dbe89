import * as tf from '@tensorflow/tfjs-core';
import { ProbUNet, type CheckpointableModel, type PreparedFusion } from '@probunet/core';
import { createSyntheticLidc, type Example } from '@probunet/datasets';
import { uncertaintyMaps } from '@probunet/metrics';
import { BROWSER_BACKENDS, startBackend, type BackendChoice, type BrowserBackendState } from './backend.js';
import { fetchBytes, readFileBytes, restoreModel, type LoadedModel, type Progress } from './models.js';
import { drawColourBar, drawOverlay, drawScalarMap, type Picture } from './render.js';
import { decodeGreyPng, decodeMaskPng } from './png.js';
import { drawScoreChart, type ScoreRow } from './score-chart.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** The bundled examples: the CLI's synthetic-lidc test split at seed 0 (size 32, 4 graders). */
const EXAMPLES = createSyntheticLidc({ count: 8, size: 32, graders: 4, seed: 2_000_006 });
const BUNDLED = { prob: './models/prob-unet.ckpt', det: './models/deterministic-unet.ckpt' };

interface State {
  backend: BrowserBackendState | null;
  prob: LoadedModel | null;
  det: LoadedModel | null;
  picture: Picture | null;
  graders: Uint8Array[];
  latent: { prepared: PreparedFusion; mean: Float32Array; sigma: Float32Array } | null;
  drawing: Uint8Array | null;
}

const state: State = { backend: null, prob: null, det: null, picture: null, graders: [], latent: null, drawing: null };

// ---------------------------------------------------------------------------------------------
// Errors and status: every failure a user can cause lands in #error, never only in the console.

function showError(err: unknown): void {
  const box = $('error');
  box.textContent = err instanceof Error ? err.message : String(err);
  box.hidden = false;
  console.error(err);
}

function clearError(): void {
  const box = $('error');
  box.textContent = '';
  box.hidden = true;
}

function status(text: string): void {
  $('status').textContent = text;
  showMemory();
}

/** The tensors TensorFlow.js holds: constant across repeated actions (nothing leaks). */
function showMemory(): void {
  if (!state.backend) return; // tf.memory() needs a running backend
  const m = tf.memory();
  const el = $('memory');
  el.dataset.tensors = String(m.numTensors);
  el.textContent = `TensorFlow.js holds ${m.numTensors} tensors (${(m.numBytes / 2 ** 20).toFixed(1)} MiB)`;
}

/** Runs a user action; its error goes to the page. Controls are disabled while it runs. */
let busy = false;
async function act(what: string, fn: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  document.body.dataset.busy = 'true';
  clearError();
  status(`${what}…`);
  try {
    await fn();
    status(`${what}: done`);
  } catch (err) {
    status(`${what}: failed`);
    showError(err);
  } finally {
    busy = false;
    document.body.dataset.busy = 'false';
  }
}

// ---------------------------------------------------------------------------------------------
// Backend

function renderBackend(): void {
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

// ---------------------------------------------------------------------------------------------
// Models

const progress: Progress = (stage, loaded, total) => {
  const bar = $<HTMLProgressElement>('load-progress');
  if (total) {
    bar.max = total;
    bar.value = loaded;
  } else bar.removeAttribute('value');
  const size = (b: number) => (b < 10_240 ? `${b} B` : `${(b / 1024).toFixed(0)} KiB`);
  $('load-text').textContent = `${stage}: ${size(loaded)}${total ? ` of ${size(total)}` : ''}`;
};

const acceptProb = (type: string) => (type === 'prob-unet' ? null : `this checkpoint holds a "${type}" model; the Prob. U-Net slot needs a "prob-unet"`);
const acceptOther = (type: string) => (type !== 'prob-unet' ? null : `this checkpoint holds a "prob-unet"; the comparison slot needs another model type`);

function describeModel(m: LoadedModel | null, role: string): string {
  if (!m) return `${role}: none`;
  const params = m.model.parameters().reduce((n, p) => n + p.variable.size, 0);
  return `${role}: ${m.model.kind} from ${m.name} (${params.toLocaleString('en')} parameters, ${(m.bytes.byteLength / 1024).toFixed(0)} KiB)`;
}

function renderModels(): void {
  $('model-info').textContent = [describeModel(state.prob, 'Prob. U-Net'), describeModel(state.det, 'comparison')].join(' · ');
  renderSliders();
}

/** Opens a checkpoint the user chose: a prob-unet replaces the Prob. U-Net, any other type the comparison model. */
async function openCheckpoint(file: File): Promise<void> {
  const bytes = await readFileBytes(file, progress);
  // A small probe restore tells the type; restoreModel checks format, version, CRCs and shapes.
  let loaded: LoadedModel;
  try {
    loaded = restoreModel(bytes, file.name, () => null, progress);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nOpen a .ckpt written by probunet train (or saveCheckpoint).`);
  }
  if (loaded.model.kind === 'prob-unet') {
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

// ---------------------------------------------------------------------------------------------
// Images

function setPicture(pic: Picture, graders: Uint8Array[]): void {
  state.picture = pic;
  state.graders = graders;
  state.drawing = new Uint8Array(pic.height * pic.width);
  disposeLatent();
  drawOverlay($<HTMLCanvasElement>('image-canvas'), pic);
  fillGrid('grader-grid', pic, graders, 'grader', 'pic');
  ($<HTMLButtonElement>('copy-grader')).disabled = graders.length === 0;
  redrawDrawing();
  clearOutputs();
}

async function showExample(index: number): Promise<void> {
  const ex: Example = await EXAMPLES.get(index);
  setPicture({ height: ex.height, width: ex.width, image: ex.image }, ex.annotations);
}

/** Checks an image against what the loaded models take; the message says what they expect. */
function checkPictureFits(pic: Picture): void {
  const m = state.prob?.model ?? state.det?.model;
  if (!m) return;
  const spec = m.inputSpec;
  const f = spec.downsamplingFactor;
  if (pic.height % f !== 0 || pic.width % f !== 0) {
    throw new Error(`this image is ${pic.width}×${pic.height}; the model halves it ${Math.log2(f)} times, so width and height must be multiples of ${f} (the bundled models were trained on 32×32)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Samples

function imageTensor(pic: Picture): tf.Tensor4D {
  return tf.tensor4d(pic.image, [1, pic.height, pic.width, 1]);
}

function clearOutputs(): void {
  for (const id of ['sample-grid', 'det-grid']) {
    $(id).replaceChildren();
    delete $(id).dataset.count;
  }
  $('det-note').textContent = '';
  $('sample-time').textContent = '';
  $('score-table').querySelector('tbody')!.replaceChildren();
}

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

function fillGrid(gridId: string, pic: Picture, samples: Uint8Array[], label: string, className = 'pic sample'): void {
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

// ---------------------------------------------------------------------------------------------
// Latent space: the image's features are prepared once; each slider move runs only the fusion head.

function disposeLatent(): void {
  state.latent?.prepared.dispose();
  state.latent = null;
}

function renderSliders(): void {
  const box = $('latent-sliders');
  const model = state.prob?.model;
  if (!(model instanceof ProbUNet)) {
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

async function prepareLatent(): Promise<NonNullable<State['latent']>> {
  if (state.latent) return state.latent;
  const model = state.prob?.model;
  const pic = state.picture;
  if (!(model instanceof ProbUNet)) throw new Error('load a Prob. U-Net to explore its latent space');
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

let latentRunning = false;
let latentAgain = false;
let latentMoves = 0;

function scheduleLatent(): void {
  if (latentRunning) {
    latentAgain = true;
    return;
  }
  latentRunning = true;
  void (async () => {
    try {
      do {
        latentAgain = false;
        await renderLatent();
      } while (latentAgain);
    } catch (err) {
      showError(err);
    } finally {
      latentRunning = false;
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
  latentMoves++;
  const el = $('latent-time');
  el.dataset.ms = ms.toFixed(1);
  el.dataset.moves = String(latentMoves);
  showMemory();
  el.textContent = `z = μ + t·σ at t = [${t.map((v) => v.toFixed(1)).join(', ')}]: fusion head in ${ms.toFixed(1)} ms on ${tf.getBackend()}`;
}

/** Standard normal draws (Box–Muller): the sliders then show z = μ + t·σ ~ p(z|x). */
function priorDraw(): void {
  for (const el of document.querySelectorAll<HTMLInputElement>('input.latent')) {
    const u = 1 - Math.random();
    const v = Math.random();
    const t = Math.max(-3, Math.min(3, Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
    el.value = t.toFixed(1);
    document.getElementById(`${el.id}-value`)!.textContent = Number(el.value).toFixed(1);
  }
  scheduleLatent();
}

function resetLatent(): void {
  for (const el of document.querySelectorAll<HTMLInputElement>('input.latent')) {
    el.value = '0';
    document.getElementById(`${el.id}-value`)!.textContent = '0.0';
  }
  scheduleLatent();
}

// ---------------------------------------------------------------------------------------------
// Assess an annotation

let cursor = { x: 0, y: 0 };

function redrawDrawing(): void {
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
  if (!(model instanceof ProbUNet)) throw new Error('scoring needs a Prob. U-Net (the deterministic U-Net has no ELBO): load one');
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

// ---------------------------------------------------------------------------------------------
// Wiring

function wire(): void {
  const backendSelect = $<HTMLSelectElement>('backend-select');
  backendSelect.addEventListener('change', () => act(`starting ${backendSelect.value}`, () => switchBackend(backendSelect.value as BackendChoice)));
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
  const exampleSelect = $<HTMLSelectElement>('example-select');
  exampleSelect.replaceChildren(
    ...Array.from({ length: EXAMPLES.length }, (_, i) => Object.assign(document.createElement('option'), { value: String(i), textContent: `example ${i + 1}` })),
  );
  exampleSelect.addEventListener('change', () => act('opening the example', () => showExample(Number(exampleSelect.value))));
  $('image-file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void act(`opening ${file.name}`, async () => {
      const pic = await decodeGreyPng(file);
      checkPictureFits(pic);
      setPicture(pic, []);
    }).finally(() => (input.value = ''));
  });
  $('sample-button').addEventListener('click', () => act('drawing samples', sampleAction));
  $('prior-draw').addEventListener('click', priorDraw);
  $('latent-reset').addEventListener('click', resetLatent);
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
