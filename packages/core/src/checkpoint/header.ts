import { CheckpointError } from '../errors.js';
import { modelTypeOf, type ModelConfig } from '../model/checkpointable.js';
import type { TrainerState } from '../training/trainer.js';
import { checkSchedule } from '../training/schedule.js';
import { crc32 } from './crc32.js';

export const MAGIC = 'PUNETCK1';
/**
 * 2: a CRC-32 of magic, length and JSON header follows the header. 1 (read with a warning): only
 * the data section is covered.
 */
export const FORMAT_VERSION = 2;
/** Default of `maxParameters`: 100 M float32 scalars (400 MB), 5× the authors' Cityscapes model. */
export const DEFAULT_MAX_PARAMETERS = 100_000_000;

export interface TensorEntry {
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
  /** The model's getConfig(): its `type` (or, for a Prob. U-Net, `format: 'probunet-model'`) names the registry factory that rebuilds it. */
  model: ModelConfig;
  /** Present when an optimizer state was saved (resumable training). */
  trainer?: TrainerState;
  /** Free-form, JSON-serialisable data of the caller (dataset, command line, metrics…). */
  meta?: Record<string, unknown>;
  tensors: TensorEntry[];
  dataBytes: number;
  dataCrc32: number;
}

export interface ReadHeaderOptions {
  /** Refuse checkpoints whose model tensors hold more scalars than this. Default 100 M (400 MB). */
  maxParameters?: number;
  /** Called with each warning (an old format version); default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Bytes of magic + length + header (+ CRC for version 2), padded to 4: where the data starts. */
export function dataStartOf(headerLength: number, version: number): number {
  return Math.ceil((12 + headerLength + (version >= 2 ? 4 : 0)) / 4) * 4;
}

/**
 * Reads and checks everything but the data section: magic, header CRC (version 2), structure and
 * value types of every field, tensor extents inside the data section, the size limit. Every
 * failure is a CheckpointError naming `source`.
 */
export function readHeader(bytes: Uint8Array, source: string, options: ReadHeaderOptions = {}): { header: CheckpointHeader; dataStart: number } {
  if (bytes.byteLength < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new CheckpointError(`${source} is not a probunet checkpoint (bad magic bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.byteLength) throw new CheckpointError(`${source} is truncated inside its header`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + headerLength)));
  } catch (err) {
    throw new CheckpointError(`${source} has a corrupt header: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new CheckpointError(`${source} has a corrupt header: not a JSON object`);
  if (parsed.format !== 'probunet-checkpoint') throw new CheckpointError(`${source} has format "${String(parsed.format)}", expected probunet-checkpoint`);
  const version = parsed.version;
  if (version !== 1 && version !== FORMAT_VERSION) {
    throw new CheckpointError(`${source} is format version ${String(version)}; this build reads versions 1 and ${FORMAT_VERSION}`);
  }
  if (version >= 2) {
    if (12 + headerLength + 4 > bytes.byteLength) throw new CheckpointError(`${source} is truncated inside its header`);
    if (view.getUint32(12 + headerLength, true) !== crc32(bytes.subarray(0, 12 + headerLength))) {
      throw new CheckpointError(`${source}: the header fails its CRC-32 check: the header (config, step, tensor offsets) is corrupt`);
    }
  } else {
    (options.onWarning ?? console.warn)(
      `${source} is format version 1: its header is not covered by a checksum (only the weights are). Save it again to upgrade it to version ${FORMAT_VERSION}`,
    );
  }
  const header = checkHeader(parsed, source, options.maxParameters ?? DEFAULT_MAX_PARAMETERS);
  return { header, dataStart: dataStartOf(headerLength, version) };
}

function checkHeader(h: Record<string, unknown>, source: string, maxParameters: number): CheckpointHeader {
  const bad = (what: string) => new CheckpointError(`${source} has a malformed header: ${what}`);
  if (!isObject(h.model)) throw bad('"model" must be a model config object');
  const type = modelTypeOf(h.model);
  if (type === undefined) throw bad('"model" has neither a string "type" nor format "probunet-model"');
  if (!isCount(h.dataBytes) || h.dataBytes % 4 !== 0) throw bad(`"dataBytes" must be a multiple of 4, got ${JSON.stringify(h.dataBytes)}`);
  if (!isCount(h.dataCrc32) || h.dataCrc32 > 0xffffffff) throw bad(`"dataCrc32" must be a 32-bit unsigned integer, got ${JSON.stringify(h.dataCrc32)}`);
  if (!Array.isArray(h.tensors)) throw bad('"tensors" must be a list');
  const names = new Set<string>();
  let parameters = 0;
  for (const [i, e] of (h.tensors as unknown[]).entries()) {
    if (!isObject(e) || typeof e.name !== 'string' || names.has(e.name)) throw bad(`tensors[${i}] needs a unique string "name"`);
    names.add(e.name);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw bad(`tensor "${e.name}" has shape ${JSON.stringify(e.shape)}: a list of integers ≥ 0 is needed`);
    if (!isCount(e.offset) || e.offset % 4 !== 0) throw bad(`tensor "${e.name}" has offset ${JSON.stringify(e.offset)}: a multiple of 4 is needed`);
    const size = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (e.offset + 4 * size > h.dataBytes) {
      throw bad(`tensor "${e.name}" [${String(e.shape)}] at byte offset ${e.offset} lies outside the ${h.dataBytes}-byte data section`);
    }
    if (!e.name.startsWith('optimizer/')) parameters += size;
  }
  if (parameters > maxParameters) {
    throw new CheckpointError(
      `${source} holds a model of ${parameters} parameters, above the limit of ${maxParameters} (maxParameters): pass a higher maxParameters if you trust this file`,
    );
  }
  if (h.trainer !== undefined) checkTrainerState(h.trainer, bad);
  if (h.meta !== undefined && !isObject(h.meta)) throw bad('"meta" must be an object');
  return h as unknown as CheckpointHeader;
}

function checkTrainerState(t: unknown, bad: (what: string) => CheckpointError): void {
  if (!isObject(t)) throw bad('"trainer" must be an object');
  if (!isCount(t.step)) throw bad(`"trainer.step" must be an integer ≥ 0, got ${JSON.stringify(t.step)}`);
  if (typeof t.rngState !== 'number' || !Number.isInteger(t.rngState)) throw bad(`"trainer.rngState" must be an integer, got ${JSON.stringify(t.rngState)}`);
  if (typeof t.weightDecay !== 'number' || !(t.weightDecay >= 0) || !Number.isFinite(t.weightDecay)) {
    throw bad(`"trainer.weightDecay" must be a finite number ≥ 0, got ${JSON.stringify(t.weightDecay)}`);
  }
  const s = t.schedule;
  if (!isObject(s) || !Array.isArray(s.boundaries) || !Array.isArray(s.values) || ![...s.boundaries, ...s.values].every((x) => typeof x === 'number')) {
    throw bad('"trainer.schedule" must be { boundaries: number[], values: number[] }');
  }
  try {
    checkSchedule({ boundaries: s.boundaries as number[], values: s.values as number[] });
  } catch (err) {
    throw bad(`"trainer.schedule": ${(err as Error).message}`);
  }
  const a = t.adam;
  if (!isObject(a)) throw bad('"trainer.adam" must be an object');
  for (const k of ['beta1', 'beta2', 'epsilon']) if (typeof a[k] !== 'number') throw bad(`"trainer.adam.${k}" must be a number`);
  if (!isCount(a.iterations)) throw bad(`"trainer.adam.iterations" must be an integer ≥ 0, got ${JSON.stringify(a.iterations)}`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
