import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { CheckpointError } from '../errors.js';
import { encodeCheckpoint, restoreCheckpoint, type RestoredCheckpoint } from '../checkpoint/format.js';
import type { CreateOptions } from '../model/create.js';
import type { ProbUNet } from '../model/prob-unet.js';
import type { Trainer } from '../training/trainer.js';

/** Saves model (+ trainer state, + meta) to one file, atomically. */
export async function saveCheckpoint(path: string, model: ProbUNet, trainer?: Trainer<ProbUNet>, meta?: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(model, trainer, meta));
}

/** Loads a checkpoint file written by `saveCheckpoint`. */
export async function loadCheckpoint(path: string, options: CreateOptions = {}): Promise<RestoredCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  return restoreCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, source: path });
}
