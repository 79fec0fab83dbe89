import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename over
 * the target, fsync of the directory. A crash at any point leaves either the old file or the new
 * one, never a mix; the temporary file is removed on failure. A process killed mid-write cannot
 * remove its own: the next write to the same target does (see `removeStaleTempFiles`).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  await removeStaleTempFiles(path);
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

/** A temporary file older than this is stale even if its writer's process id is alive (reused). */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * Removes the temporary files that writes to `path` left behind when their process died: those
 * named after `path` whose writer (the process id in the name) no longer runs, or that are older
 * than an hour. Temporary files of other targets, and of live writers, are left alone.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    const file = join(dir, name);
    let stale = pid !== process.pid && !isRunning(pid);
    if (!stale) {
      try {
        stale = Date.now() - (await stat(file)).mtimeMs > STALE_AFTER_MS;
      } catch {
        continue; // already gone
      }
    }
    if (!stale) continue;
    await rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}
