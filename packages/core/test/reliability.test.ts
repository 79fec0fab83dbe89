// Hostile inputs against training, inference and checkpoints (issue 18, core half). Each case
// reproduced its defect before the fix; docs/reliability-training.md tabulates them.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  ConfigError,
  DisposedError,
  InputError,
  NonFiniteLossError,
  NonFiniteWeightsError,
  createProbUNet,
  decodeCheckpoint,
  encodeCheckpoint,
  restoreCheckpoint,
  Trainer,
  type ProbUNet,
} from '../src/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/node/index.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

function batch(seed: number, graders = 0, h = 8, w = 8) {
  const images = tf.randomUniform([2, h, w, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
  const shape = graders > 0 ? [2, graders, h, w] : [2, h, w];
  const labels = tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', seed + 100), 0.5), 'int32') as tf.Tensor3D;
  return { images, labels };
}

async function flat(model: ProbUNet): Promise<number[]> {
  const out: number[] = [];
  for (const p of model.parameters()) out.push(...(await p.variable.data()));
  return out;
}

async function momentsOf(trainer: Trainer<ProbUNet>): Promise<number[]> {
  const out: number[] = [];
  for (const t of trainer.optimizer.stateTensors().values()) out.push(...(await t.data()));
  return out;
}

/** Rewrites a checkpoint's JSON header (and, for version 2, its header CRC) as a forger would. */
function forgeHeader(bytes: Uint8Array, edit: (h: Record<string, unknown>) => void, fixCrc = true): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Record<string, unknown>;
  const oldStart = Math.ceil((12 + len + 4) / 4) * 4;
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length + 4) / 4) * 4;
  const out = new Uint8Array(start + (bytes.length - oldStart));
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  out.fill(0x20, 12 + json.length + 4, start);
  if (fixCrc) new DataView(out.buffer).setUint32(12 + json.length, crc32Of(out.subarray(0, 12 + json.length)), true);
  out.set(bytes.subarray(oldStart), start);
  return out;
}

function crc32Of(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c ^= bytes[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('a fault never replaces good state', () => {
  it.each([
    ['learning rate 1e39 (finite in float64, infinite in float32)', { learningRate: 1e39 }],
    ['learning rate 1e30 (a finite but absurd update)', { learningRate: 1e30 }],
  ])('rejects an update with non-finite weights: %s', async (_name, options) => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { seed: 5, learningRate: 1e-3 });
    const b = batch(1, 3);
    await trainer.trainStep(b); // moments exist
    const before = { w: await flat(model), m: await momentsOf(trainer), state: trainer.getState() };
    const bad = new Trainer(model, { seed: 5, ...options });
    bad.restoreState(trainer.getState(), trainer.optimizer.stateTensors());
    const badBefore = bad.getState();
    const tensors = tf.memory().numTensors;
    await expect(bad.trainStep(b)).rejects.toThrow(NonFiniteLossError);
    await expect(bad.trainStep(b)).rejects.toThrow(/update|weights/);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(await flat(model)).toEqual(before.w);
    expect(await momentsOf(bad)).toEqual(before.m);
    expect(bad.getState()).toEqual(badBefore); // step, RNG and Adam's count untouched
    // The same step with a sane rate then runs exactly as it would have.
    const good = await trainer.trainStep(b);
    expect(good.step).toBe(2);
    tf.dispose([b.images, b.labels]);
    bad.dispose();
    trainer.dispose();
    model.dispose();
  });

  it.each([
    ['adam.beta1 1', { adam: { beta1: 1 } }, /beta1/],
    ['adam.beta1 −0.1', { adam: { beta1: -0.1 } }, /beta1/],
    ['adam.beta2 1', { adam: { beta2: 1 } }, /beta2/],
    ['adam.beta2 NaN', { adam: { beta2: NaN } }, /beta2/],
    ['adam.epsilon 0', { adam: { epsilon: 0 } }, /epsilon/],
    ['adam.epsilon Infinity', { adam: { epsilon: Infinity } }, /epsilon/],
    ['weightDecay NaN', { weightDecay: NaN }, /weightDecay/],
    ['weightDecay −1', { weightDecay: -1 }, /weightDecay/],
    ['weightDecay Infinity', { weightDecay: Infinity }, /weightDecay/],
  ])('refuses %s at construction', (_name, options, message) => {
    const model = createProbUNet(tiny);
    expect(() => new Trainer(model, options)).toThrow(ConfigError);
    expect(() => new Trainer(model, options)).toThrow(message);
    model.dispose();
  });

  it('saveCheckpoint refuses non-finite weights and keeps the good file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-rel-'));
    const target = join(dir, 'model.ckpt');
    const model = createProbUNet(tiny);
    await saveCheckpoint(target, model);
    const good = await readFile(target);
    const p = model.parameters()[3]!;
    tf.tidy(() => p.variable.assign(tf.fill(p.variable.shape, NaN)));
    await expect(saveCheckpoint(target, model)).rejects.toThrow(CheckpointError);
    await expect(saveCheckpoint(target, model)).rejects.toThrow(new RegExp(`${p.name}.*NaN`));
    expect(Buffer.compare(await readFile(target), good)).toBe(0);
    expect(await readdir(dir)).toEqual(['model.ckpt']);
    model.dispose();
  });

  it('validates every grader of a batch, not only the one picked for the step', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3, seed: 0 });
    const { images, labels } = batch(2, 3);
    const buf = labels.bufferSync();
    for (let a = 0; a < 3; a++) buf.set(7, 1, a === 2 ? 2 : a, 4, 4); // grader 2 of image 1 only
    buf.set(0, 1, 0, 4, 4);
    buf.set(0, 1, 1, 4, 4);
    const bad = buf.toTensor() as unknown as tf.Tensor4D;
    const w0 = await flat(model);
    const state = trainer.getState();
    for (let i = 0; i < 4; i++) await expect(trainer.trainStep({ images, labels: bad })).rejects.toThrow(InputError);
    expect(trainer.getState()).toEqual(state);
    expect(await flat(model)).toEqual(w0);
    tf.dispose([images, labels, bad]);
    trainer.dispose();
    model.dispose();
  });

  it('trainStep after dispose() is an error, not a silent reset of the moments', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const b = batch(3);
    await trainer.trainStep(b);
    trainer.dispose();
    await expect(trainer.trainStep(b)).rejects.toThrow(DisposedError);
    await expect(trainer.trainStep(b)).rejects.toThrow(/disposed/);
    tf.dispose([b.images, b.labels]);
    model.dispose();
  });
});

describe('a model with non-finite weights fails loudly', () => {
  it.each(['sample', 'scoreAnnotation', 'reconstruct', 'latentTraversal'] as const)('%s', async (method) => {
    const model = createProbUNet(tiny);
    const { images, labels } = batch(4);
    const one = tf.slice(images, [0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
    const run = async () => {
      if (method === 'sample') return tf.dispose(model.sample(images, 2, { seed: 1 }));
      if (method === 'reconstruct') return tf.dispose(model.reconstruct(images, labels));
      if (method === 'latentTraversal') return tf.dispose(model.latentTraversal(one).labels);
      await model.scoreAnnotation(images, labels, { samples: 2 });
    };
    await run(); // healthy weights: no error, and the check is cached
    const p = model.parameters().find((q) => q.name.startsWith('fusion/'))!;
    tf.tidy(() => p.variable.assign(tf.fill(p.variable.shape, Infinity)));
    const tensors = tf.memory().numTensors;
    await expect(run()).rejects.toThrow(NonFiniteWeightsError);
    await expect(run()).rejects.toThrow(new RegExp(p.name));
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([images, labels, one]);
    model.dispose();
  });
});

describe('checkpoint corruption is detected, not loaded', () => {
  async function checkpoint(withTrainer = false): Promise<Uint8Array> {
    const model = createProbUNet({ ...tiny, beta: 1 });
    const trainer = withTrainer ? new Trainer(model, { learningRate: 1e-3 }) : undefined;
    if (trainer) {
      const b = batch(5);
      await trainer.trainStep(b);
      tf.dispose([b.images, b.labels]);
    }
    const bytes = await encodeCheckpoint(model, trainer);
    trainer?.dispose();
    model.dispose();
    return bytes;
  }

  function findInHeader(bytes: Uint8Array, text: string): number {
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
    const at = new TextDecoder().decode(bytes.subarray(12, 12 + len)).indexOf(text);
    if (at < 0) throw new Error(`${text} not in the header`);
    return 12 + at;
  }

  it.each([
    ['β 1 → 7', '"beta":1', 7, '7'],
    ['ignore label 255 → 155', '"ignoreLabel":255', 14, '1'],
    ['step 1 → 7', '"step":1', 7, '7'],
    ['a tensor offset digit', '"offset":1', 9, '3'],
  ])('one changed byte in the JSON header fails its CRC: %s', async (_name, text, index, char) => {
    const bytes = Uint8Array.from(await checkpoint(true));
    bytes[findInHeader(bytes, text) + index] = char.charCodeAt(0);
    const before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(bytes, { source: 'x.ckpt' })).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(bytes, { source: 'x.ckpt' })).toThrow(/header.*CRC-32|CRC-32.*header/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a version-1 file (no header CRC) still loads, with a warning', async () => {
    const v2 = await checkpoint(true);
    // Rebuild the old layout: magic, length, JSON, pad to 4, data.
    const len = new DataView(v2.buffer, v2.byteOffset).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(v2.subarray(12, 12 + len))) as Record<string, unknown>;
    header.version = 1;
    const json = new TextEncoder().encode(JSON.stringify(header));
    const start = Math.ceil((12 + json.length) / 4) * 4;
    const data = v2.subarray(Math.ceil((12 + len + 4) / 4) * 4);
    const v1 = new Uint8Array(start + data.length).fill(0x20);
    v1.set(v2.subarray(0, 8));
    new DataView(v1.buffer).setUint32(8, json.length, true);
    v1.set(json, 12);
    v1.set(data, start);
    const warnings: string[] = [];
    const r = restoreCheckpoint(v1, { source: 'old.ckpt', onWarning: (m) => warnings.push(m) });
    expect(r.trainerState?.state.step).toBe(1);
    expect(warnings.join('\n')).toMatch(/old.ckpt is format version 1.*header is not covered/);
    r.model.dispose();
  });

  it.each<[string, (h: Record<string, unknown>) => void, RegExp]>([
    ['header is null', (h) => { for (const k of Object.keys(h)) delete h[k]; }, /format/],
    ['tensors is not a list', (h) => { h.tensors = 5; }, /tensors/],
    ['a tensor shape is negative', (h) => { (h.tensors as Array<{ shape: number[] }>)[0]!.shape = [-1, 3, 1, 4]; }, /shape/],
    ['an offset outside the data', (h) => { (h.tensors as Array<{ offset: number }>)[1]!.offset = 1e9; }, /outside|offset/],
    ['a misaligned offset', (h) => { (h.tensors as Array<{ offset: number }>)[1]!.offset = 2; }, /offset/],
    ['model config missing', (h) => { delete h.model; }, /model/],
    ['trainer.adam missing', (h) => { delete (h.trainer as Record<string, unknown>).adam; }, /adam/],
    ['trainer schedule malformed', (h) => { (h.trainer as Record<string, unknown>).schedule = { boundaries: [1], values: [1] }; }, /schedule/],
    ['trainer step NaN-ish', (h) => { (h.trainer as Record<string, unknown>).step = 'x'; }, /step/],
    ['optimizer moments removed', (h) => { h.tensors = (h.tensors as Array<{ name: string }>).filter((t) => !t.name.includes('adam_v')); }, /adam_v|optimizer/],
  ])('a malformed header gives CheckpointError, never TypeError/RangeError: %s', async (_name, edit, message) => {
    const forged = forgeHeader(await checkpoint(true), edit);
    const before = tf.memory().numTensors;
    let thrown: unknown;
    try {
      const r = restoreCheckpoint(forged, { source: 'x.ckpt' });
      r.model.dispose();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CheckpointError);
    expect((thrown as Error).message).toMatch(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a crafted header asking for a huge model is refused before any model is built', async () => {
    const forged = forgeHeader(await checkpoint(), (h) => {
      const m = h.model as Record<string, Record<string, unknown>>;
      m.encoder!.channels = [4096, 4096, 4096, 4096];
    });
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    expect(() => restoreCheckpoint(forged, { source: 'x.ckpt' })).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(forged, { source: 'x.ckpt' })).toThrow(/unet\/down0\/conv0\/kernel.*\[3,3,1,4096\]/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a header whose tensors exceed the size limit is refused; the limit can be raised', async () => {
    const bytes = await checkpoint();
    expect(() => restoreCheckpoint(bytes, { maxParameters: 100 })).toThrow(/maxParameters/);
    const r = restoreCheckpoint(bytes, { maxParameters: 1e6 });
    r.model.dispose();
  });

  it('decodeCheckpoint alone also checks the header', async () => {
    const forged = forgeHeader(await checkpoint(), (h) => { h.dataBytes = 'lots'; });
    expect(() => decodeCheckpoint(forged)).toThrow(CheckpointError);
  });

  it('a save after kills removes the stale temp files of the same target only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-stale-'));
    const target = join(dir, 'model.ckpt');
    // What SIGKILL mid-save leaves: hidden temp files of dead (and live) writers.
    await writeFile(join(dir, '.model.ckpt.999999999.deadbeef.tmp'), 'half');
    await writeFile(join(dir, '.model.ckpt.999999998.0badf00d.tmp'), 'half');
    await writeFile(join(dir, '.other.ckpt.999999999.deadbeef.tmp'), 'not ours');
    await writeFile(join(dir, `.model.ckpt.${process.pid}.cafe0000.tmp`), 'a live writer of this process');
    const model = createProbUNet(tiny);
    await saveCheckpoint(target, model);
    model.dispose();
    expect((await readdir(dir)).sort()).toEqual(['.model.ckpt.' + process.pid + '.cafe0000.tmp', '.other.ckpt.999999999.deadbeef.tmp', 'model.ckpt']);
  });

  it('loadCheckpoint passes the size limit through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-lim-'));
    const model = createProbUNet(tiny);
    await saveCheckpoint(join(dir, 'a.ckpt'), model);
    model.dispose();
    await expect(loadCheckpoint(join(dir, 'a.ckpt'), { maxParameters: 10 })).rejects.toThrow(CheckpointError);
  });
});

describe('named errors and refused values', () => {
  it('createProbUNet(null) and trainStep(undefined) throw named errors', async () => {
    expect(() => createProbUNet(null as never)).toThrow(ConfigError);
    expect(() => createProbUNet(undefined as never)).toThrow(ConfigError);
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model);
    await expect(trainer.trainStep(undefined as never)).rejects.toThrow(InputError);
    await expect(trainer.trainStep({ images: undefined } as never)).rejects.toThrow(InputError);
    trainer.dispose();
    model.dispose();
  });

  it('every method of a disposed model throws DisposedError', async () => {
    const model = createProbUNet(tiny);
    const { images, labels } = batch(6);
    model.dispose();
    expect(() => model.sample(images, 1)).toThrow(DisposedError);
    await expect(model.scoreAnnotation(images, labels)).rejects.toThrow(DisposedError);
    const trainer = new Trainer(createProbUNet(tiny));
    trainer.model.dispose();
    await expect(trainer.trainStep({ images, labels })).rejects.toThrow(DisposedError);
    trainer.dispose();
    tf.dispose([images, labels]);
  });

  it.each([NaN, Infinity, -1])('latentTraversal refuses range %s', (range) => {
    const model = createProbUNet(tiny);
    const image = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
    expect(() => model.latentTraversal(image, { range })).toThrow(InputError);
    expect(() => model.latentTraversal(image, { range })).toThrow(/range/);
    image.dispose();
    model.dispose();
  });

  it.each([NaN, 1.5, Infinity])('ignoreLabel %s is refused', (ignoreLabel) => {
    expect(() => createProbUNet({ ...tiny, ignoreLabel })).toThrow(ConfigError);
    expect(() => createProbUNet({ ...tiny, ignoreLabel })).toThrow(/ignoreLabel/);
    const cfg = createProbUNet(tiny);
    const parts = { ...cfg.getConfig(), ignoreLabel };
    cfg.dispose();
    expect(() => createProbUNet(parts)).toThrow(/ignoreLabel/);
  });
});

describe('non-square images train on cpu (tfjs-backend-cpu 4.22 resizeBilinearGrad swaps H and W)', () => {
  it.each([
    [32, 64],
    [36, 32],
  ])('%i×%i', async (h, w) => {
    const model = createProbUNet({ ...tiny, channels: [2, 2, 2] });
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const b = batch(7, 0, h, w);
    const m = await trainer.trainStep(b);
    expect(Number.isFinite(m.loss)).toBe(true);
    tf.dispose([b.images, b.labels]);
    trainer.dispose();
    model.dispose();
  });

  it('the gradient matches the transpose of the resize (a hand-checkable identity)', () => {
    // <resize(x), dy> = <x, grad(dy)> for every x, dy: the adjoint property.
    const x = tf.randomNormal([1, 3, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const dy = tf.randomNormal([1, 6, 9, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(xx as tf.Tensor4D, [6, 9], true), dy)))(x);
    expect(g.shape).toEqual([1, 3, 5, 2]);
    const lhs = tf.sum(tf.mul(tf.image.resizeBilinear(x, [6, 9], true), dy)).dataSync()[0]!;
    const rhs = tf.sum(tf.mul(x, g)).dataSync()[0]!;
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lhs)));
    tf.dispose([x, dy, g]);
  });
});
