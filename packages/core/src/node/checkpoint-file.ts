import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { encodeCheckpoint, restoreCheckpoint, type RestoredCheckpoint } from '../checkpoint/format.js';
import type { CreateOptions } from '../model/create.js';
import type { ProbUNet } from '../model/prob-unet.js';
import type { Trainer } from '../training/trainer.js';

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename over
 * the target, fsync of the directory. A crash at any point leaves either the old file or the new
 * one, never a mix; the temporary file is removed on failure.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself is still atomic.
  }
}

/** Saves model (+ trainer state, + meta) to one file, atomically. */
export async function saveCheckpoint(path: string, model: ProbUNet, trainer?: Trainer, meta?: Record<string, unknown>): Promise<void> {
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
