import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';
import { modelTypeOf, type CheckpointableModel } from '../model/checkpointable.js';
import type { ProbUNetModelConfig } from '../model/config.js';
import { createProbUNet, type CreateOptions } from '../model/create.js';
import { corePlugin, createRegistry } from '../registry.js';
import { Trainer, type TrainerOptions } from '../training/trainer.js';
import { crc32 } from './crc32.js';
import { expectedParameterShapes } from './expected-shapes.js';
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
 * A part built from a core component must have exactly the tensors the header lists under its
 * prefix, with the same shapes. Checked before anything is allocated.
 */
function checkShapesAgainstConfig(header: CheckpointHeader, source: string): void {
  const listed = new Map(header.tensors.map((e: TensorEntry) => [e.name, e.shape]));
  for (const [part, expected] of expectedParameterShapes(header.model as ProbUNetModelConfig)) {
    if (!expected) continue;
    for (const [name, shape] of expected) {
      const have = listed.get(name);
      if (!have) throw new CheckpointError(`${source}: its model config needs a tensor "${name}" [${shape}] that the checkpoint does not hold`);
      if (!tf.util.arraysEqual(have, shape)) {
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
  /** Present when the checkpoint holds training state; continues the same run. */
  trainer?: Trainer<M>;
  header: CheckpointHeader;
}

export interface RestoreOptions extends CreateOptions, ReadHeaderOptions {
  /** Names the checkpoint in errors (a file path). */
  source?: string;
  trainer?: Pick<TrainerOptions, 'validate'>;
  /**
   * The model type the caller expects (`prob-unet`, `dropout-unet`, …); a checkpoint of another type
   * is a CheckpointError. Pair it with the type parameter: `restoreCheckpoint<ProbUNet>(bytes, { expectedType: 'prob-unet' })`.
   */
  expectedType?: string;
}

/**
 * Rebuilds the model (a Prob. U-Net, or any type `options.registry` has a model factory for, e.g.
 * the baselines), loads its weights and, when present, a Trainer with the saved step, RNG state
 * and Adam moments.
 */
export function restoreCheckpoint<M extends CheckpointableModel = CheckpointableModel>(
  bytes: Uint8Array,
  options: RestoreOptions = {},
): RestoredCheckpoint<M> {
  const source = options.source ?? 'checkpoint';
  const { header, dataStart } = readHeader(bytes, source, options);
  // The Prob. U-Net's core parts have known shapes: check the header against them before anything
  // is allocated (a plugin's own components and other model types are checked when built).
  if (modelTypeOf(header.model) === 'prob-unet' && (!options.registry || options.registry.plugins.includes(corePlugin.name))) {
    checkShapesAgainstConfig(header, source);
  }
  const tensors = decodeTensors(bytes, header, dataStart, source);
  let model: M | undefined;
  let trainer: Trainer<M> | undefined;
  try {
    const type = modelTypeOf(header.model);
    if (options.expectedType !== undefined && type !== options.expectedType) {
      throw new CheckpointError(`${source} holds a "${type}" model, not the "${options.expectedType}" the caller expects: load it as a ${type}, or pick the right file`);
    }
    if (type === 'prob-unet') {
      model = createProbUNet(header.model as ProbUNetModelConfig, options.registry ? { registry: options.registry } : {}) as CheckpointableModel as M;
    } else if (type !== undefined) {
      model = (options.registry ?? createRegistry()).createModel({ ...header.model, type }) as M;
    } else {
      throw new CheckpointError(`${source} has a model config with neither a "type" nor format "probunet-model"`);
    }
    for (const p of model.parameters()) {
      const t = tensors.get(p.name);
      if (!t) throw new CheckpointError(`${source} has no tensor "${p.name}" that the model needs`);
      if (!tf.util.arraysEqual(t.shape, p.variable.shape)) {
        throw new CheckpointError(`${source}: tensor "${p.name}" has shape [${t.shape}], the model expects [${p.variable.shape}]`);
      }
      p.variable.assign(t);
    }
    if (header.trainer) {
      const s = header.trainer;
      trainer = new Trainer(model, {
        learningRate: s.schedule,
        weightDecay: s.weightDecay,
        adam: { beta1: s.adam.beta1, beta2: s.adam.beta2, epsilon: s.adam.epsilon },
        ...(options.trainer?.validate !== undefined ? { validate: options.trainer.validate } : {}),
      });
      const optimizerTensors = new Map<string, tf.Tensor>();
      for (const [name, t] of tensors) if (name.startsWith('optimizer/')) optimizerTensors.set(name.slice('optimizer/'.length), t);
      trainer.restoreState(s, optimizerTensors);
    }
    return { model, ...(trainer ? { trainer } : {}), header };
  } catch (err) {
    trainer?.dispose();
    model?.dispose();
    if (err instanceof CheckpointError) throw err;
    // A header that passed its checks but describes an impossible model or trainer state.
    throw new CheckpointError(`${source} cannot be restored: ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}
