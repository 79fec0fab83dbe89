import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './cli-errors.js';

/**
 * Where a run writes: a fresh folder beside the target (`<out>.incomplete-<6 hex digits>`), swapped in
 * for the target only when the run completes. A run stopped by Ctrl-C, a crash or SIGKILL never
 * mixes its files with an earlier run's and never removes that run's checkpoint.
 */
export interface RunFolder {
  /** The folder the user asked for. */
  readonly target: string;
  /** Where this run writes until it completes. */
  readonly staging: string;
  /** Whether the target held an earlier run when this one started. */
  readonly replaces: boolean;
  /** Swaps the finished run in for the target (the earlier run, if any, is removed); returns the target. */
  complete(): Promise<string>;
  /**
   * For a stopped run: with no earlier run, the partial run moves to the target; otherwise it
   * stays in `staging`, beside the untouched earlier run. Returns where it is.
   */
  keepPartial(): Promise<string>;
  /** Removes the staging folder if nothing was written to it (a run that failed before saving). */
  discardIfEmpty(): Promise<void>;
}

/**
 * Checks the output location before any work, and makes the staging folder beside it. A file at
 * the target, a folder holding files this command does not write, or a location that cannot be
 * written to is a UsageError naming it and the fix.
 */
export async function prepareRunFolder(target: string, runFiles: readonly string[], option = '--out'): Promise<RunFolder> {
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(`${option} ${target} is a file, not a folder: give a folder path (it is created if missing)`);
  }
  let replaces = false;
  if (existing) {
    const entries = await readdir(target);
    const ours = new Set(runFiles);
    // writeFileAtomic's temporary files (".<name>.<pid>.<hex>.tmp") are a stopped run's leftovers.
    const foreign = entries.filter((e) => !ours.has(e) && !/^\..+\.tmp$/.test(e));
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? `, … (${foreign.length} in all)` : '');
      throw new UsageError(`${option} ${target} holds files this command did not write (${shown}): choose a new or empty folder, or move them away`);
    }
    replaces = entries.length > 0;
  }
  const parent = dirname(target);
  let staging: string;
  try {
    await mkdir(parent, { recursive: true });
    // Not mkdtemp: its folders are private (0700); a run folder gets the usual permissions.
    staging = join(parent, `${basename(target)}.incomplete-${randomBytes(3).toString('hex')}`);
    await mkdir(staging);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`cannot write the run beside ${option} ${target} (in ${parent}): ${code}; choose a writable location`);
  }
  const syncParent = async () => {
    try {
      const d = await open(parent, 'r');
      await d.sync().finally(() => d.close());
    } catch {
      // Some filesystems cannot fsync a directory; the renames themselves are still atomic.
    }
  };
  return {
    target,
    staging,
    replaces,
    async complete() {
      const old = existing ? `${target}.old-${randomBytes(4).toString('hex')}` : undefined;
      if (old) await rename(target, old);
      await rename(staging, target);
      await syncParent();
      if (old) await rm(old, { recursive: true, force: true });
      return target;
    },
    async keepPartial() {
      if (replaces) return staging;
      if (existing) await rmdir(target); // an empty folder the user made for this run
      await rename(staging, target);
      await syncParent();
      return target;
    },
    async discardIfEmpty() {
      await rmdir(staging).catch(() => undefined); // fails, and keeps it, unless empty
    },
  };
}
