import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@probunet/core/node';
import { UsageError } from './cli-errors.js';

/**
 * What happens to an existing folder at the target:
 * - `refuse`: it is a usage error naming the fix (`--force`; for train also `--resume`);
 * - `force`: it is replaced whole when the new output completes (the user passed --force);
 * - `own-run`: an earlier output of this command (only `ownFiles`, or empty) is replaced whole when
 *   the new one completes; a folder holding other files is refused (demo: re-running is the normal case).
 */
export type ReplacePolicy = 'refuse' | 'force' | 'own-run';

export interface OutputFolderOptions {
  /** The option that named the folder, for messages (`--out`). */
  option: string;
  replace: ReplacePolicy;
  /** `own-run`: the files this command writes. */
  ownFiles?: readonly string[];
  /** `refuse`: also suggest `--resume DIR` (train). */
  resumeHint?: boolean;
}

/**
 * Where a command writes its outputs. New output goes into a staging folder beside the target
 * (`<target>.incomplete-<6 hex>`) and is swapped in by `commit()`, so the target never holds half
 * an output and an earlier one is never mixed with or lost to a run that does not complete. A
 * resumed run (`resumeOutputFolder`) writes in place, each file atomically.
 */
export interface OutputFolder {
  /** The folder the user named (absolute). */
  readonly target: string;
  /** Where to write now: the staging folder until `commit()`, then the target. */
  readonly work: string;
  /** Whether the target held an earlier output when this one started. */
  readonly replaces: boolean;
  /** Swaps the staging folder in for the target (the earlier output, if any, is removed). Idempotent; returns the target. */
  commit(): Promise<string>;
  /**
   * For a stopped run: with no earlier output the partial one moves to the target; otherwise it
   * stays in the staging folder beside the untouched earlier output. Returns where it is.
   */
  keepPartial(): Promise<string>;
  /** Removes the staging folder and what it holds (a run that failed). */
  discard(): Promise<void>;
  /** Removes the staging folder only if nothing was written to it. */
  discardIfEmpty(): Promise<void>;
}

/**
 * Checks the target before any work and makes the staging folder beside it. A file at the target,
 * an existing folder the policy does not allow, or a location that cannot be written to is a
 * UsageError naming it and the fix.
 */
export async function createOutputFolder(dir: string, options: OutputFolderOptions): Promise<OutputFolder> {
  const target = resolve(dir);
  const { option } = options;
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(`${option} ${dir} is a file, not a folder: give a folder path (it is created if missing)`);
  }
  let replaces = false;
  if (existing) {
    const entries = await readdir(target);
    if (options.replace === 'refuse') {
      throw new UsageError(`${option} ${dir} exists: pass --force to replace it${options.resumeHint ? `, or --resume ${dir} to continue its run` : ''}`);
    }
    if (options.replace === 'own-run') {
      const ours = new Set(options.ownFiles ?? []);
      // writeFileAtomic's temporary files (".<name>.<pid>.<hex>.tmp") are a stopped run's leftovers.
      const foreign = entries.filter((e) => !ours.has(e) && !/^\..+\.tmp$/.test(e));
      if (foreign.length > 0) {
        const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
        throw new UsageError(`${option} ${dir} holds files this command did not write (${shown}): choose a new or empty folder, or move them away`);
      }
    }
    replaces = entries.length > 0;
  }
  const parent = dirname(target);
  let staging: string;
  try {
    await mkdir(parent, { recursive: true });
    // Not mkdtemp: its folders are private (0700); an output folder gets the usual permissions.
    staging = join(parent, `${basename(target)}.incomplete-${randomBytes(3).toString('hex')}`);
    await mkdir(staging);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`cannot write the output beside ${option} ${dir} (in ${parent}): ${code}; choose a writable location`);
  }
  const syncParent = async () => {
    try {
      const d = await open(parent, 'r');
      await d.sync().finally(() => d.close());
    } catch {
      // Some filesystems cannot fsync a directory; the renames themselves are still atomic.
    }
  };
  let work = staging;
  return {
    target,
    get work() {
      return work;
    },
    replaces,
    async commit() {
      if (work === target) return target;
      const now = await stat(target).catch(() => undefined);
      const old = now ? `${target}.old-${randomBytes(4).toString('hex')}` : undefined;
      if (old) await rename(target, old);
      await rename(staging, target);
      work = target;
      await syncParent();
      if (old) await rm(old, { recursive: true, force: true });
      return target;
    },
    async keepPartial() {
      if (work === target || replaces) return work;
      if (existing) await rmdir(target); // an empty folder the user made for this run
      await rename(staging, target);
      work = target;
      await syncParent();
      return target;
    },
    async discard() {
      if (work !== target) await rm(staging, { recursive: true, force: true });
    },
    async discardIfEmpty() {
      if (work !== target) await rmdir(staging).catch(() => undefined); // fails, and keeps it, unless empty
    },
  };
}

/** An existing run folder, continued in place (train --resume): every method is a no-op. */
export function resumeOutputFolder(dir: string): OutputFolder {
  const target = resolve(dir);
  return { target, work: target, replaces: false, commit: async () => target, keepPartial: async () => target, discard: async () => {}, discardIfEmpty: async () => {} };
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
