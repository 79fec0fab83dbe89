import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { CheckpointError } from '../errors.js';
import { encodeCheckpoint, restoreCheckpoint, type RestoredCheckpoint, type RestoreOptions } from '../checkpoint/format.js';
import type { ProbUNet } from '../model/prob-unet.js';
import type { Trainer } from '../training/trainer.js';

/**
 * Saves model (+ trainer state, + meta) to one file, atomically. Refuses (CheckpointError) weights
 * or moments holding NaN/Inf, so a ruined model never replaces the last good file.
 */
export async function saveCheckpoint(path: string, model: ProbUNet, trainer?: Trainer<ProbUNet>, meta?: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(model, trainer, meta));
}

/**
 * Loads a checkpoint file written by `saveCheckpoint`. `options.maxParameters` (default 100 M)
 * bounds the model a file may ask for; `options.onWarning` receives format warnings.
 */
export async function loadCheckpoint(path: string, options: Omit<RestoreOptions, 'source'> = {}): Promise<RestoredCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  return restoreCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, source: path });
}
