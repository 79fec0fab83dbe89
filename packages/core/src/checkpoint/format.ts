import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';
import { modelTypeOf, type CheckpointableModel } from '../model/checkpointable.js';
import type { CreateOptions } from '../model/create.js';
import { createRegistry } from '../registry.js';
import type { Registry } from '../plugin-registry.js';
import type { SavedTrainerState, Trainer } from '../training/trainer.js';
import { crc32 } from './crc32.js';
import { dataStartOf, FORMAT_VERSION, MAGIC, readHeader, type CheckpointHeader, type ReadHeaderOptions, type TensorEntry } from './header.js';

export { DEFAULT_MAX_PARAMETERS, type CheckpointHeader, type ReadHeaderOptions } from './header.js';

/**
 * Serialises a model (and optionally its trainer: Adam moments, step, RNG) into one self-checking
 * byte array: magic, header length, JSON header, CRC-32 of everything before it, float32 data (with
 * its own CRC-32 in the header). Refuses weights or moments that hold NaN or Inf: a checkpoint is
 * what training resumes from, so a ruined model must never replace a good file.
 */
export async function encodeCheckpoint(
  model: CheckpointableModel,
  trainer?: Trainer<CheckpointableModel>,
  meta?: Record<string, unknown>,
): Promise<Uint8Array> {
  if (trainer && trainer.model !== model) throw new CheckpointError('the trainer given to encodeCheckpoint trains another model');
  const named: Array<[string, tf.Tensor]> = model.parameters().map((p) => [p.name, p.variable]);
  if (trainer) for (const [name, t] of trainer.optimizer.stateTensors()) named.push([`optimizer/${name}`, t]);
  const entries: TensorEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    const data = (await t.data()) as Float32Array;
    const bad = firstNonFinite(data);
    if (bad >= 0) {
      throw new CheckpointError(
        `refusing to save: "${name}" holds ${data[bad]} at flat index ${bad}; the model is ruined (resume from the last good checkpoint with a lower learning rate)`,
      );
    }
    entries.push({ name, shape: [...t.shape], offset });
    chunks.push(data);
    offset += data.byteLength;
  }
  const dataSection = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    dataSection.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  const header: CheckpointHeader = {
    format: 'probunet-checkpoint',
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    model: model.getConfig(),
    ...(trainer ? { trainer: trainer.getState() } : {}),
    ...(meta ? { meta } : {}),
    tensors: entries,
    dataBytes: dataSection.byteLength,
    dataCrc32: crc32(dataSection),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = dataStartOf(headerBytes.length, FORMAT_VERSION);
  const out = new Uint8Array(dataStart + dataSection.byteLength);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  view.setUint32(12 + headerBytes.length, crc32(out.subarray(0, 12 + headerBytes.length)), true);
  out.fill(0x20, 16 + headerBytes.length, dataStart);
  out.set(dataSection, dataStart);
  return out;
}

/**
 * Parses and verifies a checkpoint (header CRC and structure, size limit, data CRC); tensors are
 * returned as new float32 tensors the caller owns.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  source = 'checkpoint',
  options: ReadHeaderOptions = {},
): { header: CheckpointHeader; tensors: Map<string, tf.Tensor> } {
  const { header, dataStart } = readHeader(bytes, source, options);
  return { header, tensors: decodeTensors(bytes, header, dataStart, source) };
}

function decodeTensors(bytes: Uint8Array, header: CheckpointHeader, dataStart: number, source: string): Map<string, tf.Tensor> {
  if (bytes.byteLength !== dataStart + header.dataBytes) {
    throw new CheckpointError(`${source} holds ${bytes.byteLength - dataStart} data bytes, its header promises ${header.dataBytes}: the file is truncated or padded`);
  }
  const data = bytes.slice(dataStart);
  if (crc32(data) !== header.dataCrc32) throw new CheckpointError(`${source} fails its CRC-32 check: the weights are corrupt`);
  const floats = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  const tensors = new Map<string, tf.Tensor>();
  for (const e of header.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, tf.tensor(floats.slice(e.offset / 4, e.offset / 4 + size), e.shape, 'float32'));
  }
  return tensors;
}

/**
 * Where the model's plugin declares its parameter shapes (the core plugin does for the Prob.
 * U-Net's core parts), the header must list exactly those tensors under each known prefix, with
 * the same shapes. Checked before anything is allocated.
 */
function checkShapesAgainstConfig(header: CheckpointHeader, registry: Registry, source: string): void {
  let shapes;
  try {
    shapes = registry.expectedParameterShapes(header.model);
  } catch (err) {
    throw new CheckpointError(`${source} has a malformed header: ${(err as Error).message}`);
  }
  if (!shapes) return;
  const listed = new Map(header.tensors.map((e: TensorEntry) => [e.name, e.shape]));
  for (const [part, expected] of shapes) {
    if (!expected) continue;
    for (const [name, shape] of expected) {
      const have = listed.get(name);
      if (!have) throw new CheckpointError(`${source}: its model config needs a tensor "${name}" [${shape}] that the checkpoint does not hold`);
      if (!tf.util.arraysEqual(have, [...shape])) {
        throw new CheckpointError(`${source}: its model config gives "${name}" the shape [${shape}], the checkpoint holds [${have}]: the header is inconsistent`);
      }
    }
    for (const name of listed.keys()) {
      if (name.startsWith(`${part}/`) && !expected.has(name)) throw new CheckpointError(`${source} holds a tensor "${name}" that its model config does not have`);
    }
  }
}

export interface RestoredCheckpoint<M extends CheckpointableModel = CheckpointableModel> {
  model: M;
  /**
   * Present when the checkpoint holds training state: continue the run with
   * `Trainer.fromState(model, trainerState, { learningRate?, gradientSource? })`.
   */
  trainerState?: SavedTrainerState;
  header: CheckpointHeader;
}

export interface RestoreOptions extends CreateOptions, ReadHeaderOptions {
  /** Names the checkpoint in errors (a file path). */
  source?: string;
  /**
   * The model type the caller expects (`prob-unet`, `dropout-unet`, …); a checkpoint of another type
   * is a CheckpointError. Pair it with the type parameter: `restoreCheckpoint<ProbUNet>(bytes, { expectedType: 'prob-unet' })`.
   */
  expectedType?: string;
}

/**
 * Rebuilds the model through `options.registry` (default: the core plugin, i.e. the Prob. U-Net;
 * `createRegistry([corePlugin, baselinesPlugin])` adds the baselines), loads its weights and
 * returns, when the checkpoint holds them, the trainer's saved state and Adam moments
 * (`trainerState`, plain arrays: nothing to dispose) for `Trainer.fromState`.
 */
export function restoreCheckpoint<M extends CheckpointableModel = CheckpointableModel>(
  bytes: Uint8Array,
  options: RestoreOptions = {},
): RestoredCheckpoint<M> {
  const source = options.source ?? 'checkpoint';
  const registry = options.registry ?? createRegistry();
  const { header, dataStart } = readHeader(bytes, source, options);
  const type = modelTypeOf(header.model);
  if (options.expectedType !== undefined && type !== options.expectedType) {
    throw new CheckpointError(`${source} holds a "${type}" model, not the "${options.expectedType}" the caller expects: load it as a ${type}, or pick the right file`);
  }
  checkShapesAgainstConfig(header, registry, source);
  const tensors = decodeTensors(bytes, header, dataStart, source);
  let model: M | undefined;
  try {
    model = registry.createModel(header.model) as M;
    for (const p of model.parameters()) {
      const t = tensors.get(p.name);
      if (!t) throw new CheckpointError(`${source} has no tensor "${p.name}" that the model needs`);
      if (!tf.util.arraysEqual(t.shape, p.variable.shape)) {
        throw new CheckpointError(`${source}: tensor "${p.name}" has shape [${t.shape}], the model expects [${p.variable.shape}]`);
      }
      p.variable.assign(t);
    }
    const trainerState = header.trainer ? savedTrainerState(header, model, bytes, dataStart, source) : undefined;
    return { model, ...(trainerState ? { trainerState } : {}), header };
  } catch (err) {
    model?.dispose();
    if (err instanceof CheckpointError) throw err;
    // A header that passed its checks but describes an impossible model.
    throw new CheckpointError(`${source} cannot be restored: ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/**
 * The trainer's state and Adam's moments as arrays. After at least one update every parameter
 * needs both moments, of its own shape: a missing one would silently restart at zero.
 */
function savedTrainerState(header: CheckpointHeader, model: CheckpointableModel, bytes: Uint8Array, dataStart: number, source: string): SavedTrainerState {
  const state = header.trainer!;
  const entries = new Map(header.tensors.map((e) => [e.name, e]));
  const moments = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const p of model.parameters()) {
    const names = [`${p.name}/adam_m`, `${p.name}/adam_v`];
    const found = names.map((n) => entries.get(`optimizer/${n}`));
    if (found.every((e) => !e) && state.adam.iterations === 0) continue;
    found.forEach((e, i) => {
      if (!e) throw new CheckpointError(`${source}: the optimizer state has no ${names[i]!.slice(p.name.length + 1)} for "${p.name}" after ${state.adam.iterations} updates: the checkpoint is incomplete`);
      if (!tf.util.arraysEqual(e.shape, p.variable.shape)) {
        throw new CheckpointError(`${source}: Adam state for "${p.name}" has shape [${e.shape}] but the parameter has [${p.variable.shape}]`);
      }
      const start = dataStart + e.offset;
      const size = p.variable.size;
      const values = new Float32Array(size);
      new Uint8Array(values.buffer).set(bytes.subarray(start, start + 4 * size));
      moments.set(names[i]!, { shape: [...e.shape], values });
    });
  }
  return { state: structuredClone(state), moments };
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}
