import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';
import { modelTypeOf, type CheckpointableModel, type ModelConfig } from '../model/checkpointable.js';
import type { ProbUNetModelConfig } from '../model/config.js';
import { createProbUNet, type CreateOptions } from '../model/create.js';
import { createRegistry } from '../registry.js';
import { Trainer, type TrainerOptions, type TrainerState } from '../training/trainer.js';
import { crc32 } from './crc32.js';

const MAGIC = 'PUNETCK1';
const FORMAT_VERSION = 1;

interface TensorEntry {
  name: string;
  shape: number[];
  /** Byte offset into the data section. */
  offset: number;
}

/** The JSON header of a checkpoint file. */
export interface CheckpointHeader {
  format: 'probunet-checkpoint';
  version: number;
  createdAt: string;
  /** The model's getConfig(): a Prob. U-Net config, or a `type` a registry plugin rebuilds. */
  model: ModelConfig;
  /** Present when an optimizer state was saved (resumable training). */
  trainer?: TrainerState;
  /** Free-form, JSON-serialisable data of the caller (dataset, command line, metrics…). */
  meta?: Record<string, unknown>;
  tensors: TensorEntry[];
  dataBytes: number;
  dataCrc32: number;
}

/**
 * Serialises a model (and optionally its trainer: Adam moments, step, RNG) into one self-checking
 * byte array: magic, header length, JSON header, float32 data, with a CRC-32 of the data.
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
  const headerPadded = Math.ceil((12 + headerBytes.length) / 4) * 4;
  const out = new Uint8Array(headerPadded + dataSection.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  out.fill(0x20, 12 + headerBytes.length, headerPadded);
  out.set(dataSection, headerPadded);
  return out;
}

/** Parses and verifies a checkpoint; tensors are returned as new float32 tensors the caller owns. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): { header: CheckpointHeader; tensors: Map<string, tf.Tensor> } {
  if (bytes.byteLength < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new CheckpointError(`${source} is not a probunet checkpoint (bad magic bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.byteLength) throw new CheckpointError(`${source} is truncated inside its header`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as CheckpointHeader;
  } catch (err) {
    throw new CheckpointError(`${source} has a corrupt header: ${(err as Error).message}`);
  }
  if (header.format !== 'probunet-checkpoint') throw new CheckpointError(`${source} has format "${header.format}", expected probunet-checkpoint`);
  if (header.version !== FORMAT_VERSION) throw new CheckpointError(`${source} is format version ${header.version}; this build reads version ${FORMAT_VERSION}`);
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
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
  return { header, tensors };
}

export interface RestoredCheckpoint<M extends CheckpointableModel = CheckpointableModel> {
  model: M;
  /** Present when the checkpoint holds training state; continues the same run. */
  trainer?: Trainer<M>;
  header: CheckpointHeader;
}

export interface RestoreOptions extends CreateOptions {
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
  const { header, tensors } = decodeCheckpoint(bytes, source);
  let model: M | undefined;
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
    let trainer: Trainer<M> | undefined;
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
    model?.dispose();
    throw err;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
