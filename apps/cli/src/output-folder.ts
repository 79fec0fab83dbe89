import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@probunet/core/node';
import { UsageError } from './cli-errors.js';

/**
 * Where a command writes its outputs. A new run is written into a hidden sibling folder and
 * swapped into place by `commit()`, so RUN_DIR never holds half a run; a resumed run is written in
 * place (each file atomically).
 */
export interface RunFolder {
  /** The folder the user named. */
  readonly dir: string;
  /** Where to write now: a sibling temp folder until `commit()`, then `dir`. */
  readonly work: string;
  /** Moves the temp folder into place (replacing `dir` when --force allowed it). Idempotent. */
  commit(): Promise<void>;
  /** Removes the temp folder of a run that produced nothing worth keeping. */
  discard(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A new output folder; one that exists already is refused unless `force`. */
export async function createRunFolder(dir: string, options: { force: boolean; option: string; resumeHint?: boolean }): Promise<RunFolder> {
  const target = resolve(dir);
  if ((await exists(target)) && !options.force) {
    throw new UsageError(`${options.option} ${dir} exists: pass --force to replace it${options.resumeHint ? `, or --resume ${dir} to continue its run` : ''}`);
  }
  const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const temp = join(dirname(target), `.${basename(target)}.partial-${tag}`);
  await mkdir(temp, { recursive: true });
  let work = temp;
  return {
    dir: target,
    get work() {
      return work;
    },
    async commit() {
      if (work === target) return;
      const old = join(dirname(target), `.${basename(target)}.replaced-${tag}`);
      const replaced = await exists(target);
      if (replaced) await rename(target, old);
      await rename(temp, target);
      work = target;
      if (replaced) await rm(old, { recursive: true, force: true });
    },
    async discard() {
      if (work !== target) await rm(temp, { recursive: true, force: true });
    },
  };
}

/** An existing run folder, continued in place. */
export function existingRunFolder(dir: string): RunFolder {
  const target = resolve(dir);
  return { dir: target, work: target, commit: async () => {}, discard: async () => {} };
}

/** Reads a JSON file of a run folder, or throws a UsageError naming it. */
export async function readRunJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`${what}: ${path} is missing; is this a folder written by 'probunet train'?`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new UsageError(`${what}: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}
