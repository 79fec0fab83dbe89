import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { CheckpointError } from '../errors.js';
import { encodeCheckpoint, restoreCheckpoint, type RestoredCheckpoint, type RestoreOptions } from '../checkpoint/format.js';
import type { CheckpointableModel } from '../model/checkpointable.js';
import type { Trainer } from '../training/trainer.js';

/**
 * Saves a model of any type (+ trainer state, + meta) to one file, atomically. Refuses
 * (CheckpointError) weights or moments holding NaN/Inf, so a ruined model never replaces the last
 * good file.
 */
export async function saveCheckpoint(
  path: string,
  model: CheckpointableModel,
  trainer?: Trainer<CheckpointableModel>,
  meta?: Record<string, unknown>,
): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(model, trainer, meta));
}

/**
 * Loads a checkpoint file written by `saveCheckpoint`. Models other than the Prob. U-Net need a
 * registry with their plugin (`{ registry: createRegistry([corePlugin, baselinesPlugin]) }`);
 * `expectedType` makes a checkpoint of another type an error. `options.maxParameters` (default
 * 100 M) bounds the model a file may ask for; `options.onWarning` receives format warnings.
 */
export async function loadCheckpoint<M extends CheckpointableModel = CheckpointableModel>(
  path: string,
  options: Omit<RestoreOptions, 'source'> = {},
): Promise<RestoredCheckpoint<M>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  return restoreCheckpoint<M>(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, source: path });
}
