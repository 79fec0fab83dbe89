import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOutputFolder, resumeOutputFolder, type ReplacePolicy } from '../src/output-folder.js';
import { tempDir } from './helpers.js';

/** A folder `out` holding `files` (name → text) inside a fresh temp dir. */
async function existing(files: Record<string, string>): Promise<{ base: string; out: string }> {
  const base = await tempDir('folder');
  const out = join(base, 'out');
  await mkdir(out);
  for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text);
  return { base, out };
}

describe('output folders: explicit replace policies', () => {
  it('a new output is staged beside the target and swapped in whole by commit', async () => {
    const base = await tempDir('folder');
    const folder = await createOutputFolder(join(base, 'out'), { option: '--out', replace: 'refuse' });
    expect(folder.work).toMatch(/out\.incomplete-[0-9a-f]{6}$/);
    await writeFile(join(folder.work, 'a.json'), '1');
    expect(await readdir(base)).toHaveLength(1); // only the staging folder so far
    expect(await folder.commit()).toBe(join(base, 'out'));
    expect(await readdir(base)).toEqual(['out']);
    expect(await readFile(join(base, 'out', 'a.json'), 'utf8')).toBe('1');
    expect(folder.work).toBe(join(base, 'out'));
  });

  it('refuse: an existing target is a usage error naming --force (and --resume where it applies)', async () => {
    const { out } = await existing({ 'results.json': '{}' });
    await expect(createOutputFolder(out, { option: '--out', replace: 'refuse' })).rejects.toThrow(/--out .*out exists: pass --force to replace it$/);
    await expect(createOutputFolder(out, { option: '--out', replace: 'refuse', resumeHint: true })).rejects.toThrow(/pass --force to replace it, or --resume .*out to continue its run/);
  });

  it('force: the earlier folder stays untouched until commit, then is replaced whole', async () => {
    const { base, out } = await existing({ 'old.txt': 'old', 'notes.md': 'x' });
    const folder = await createOutputFolder(out, { option: '--out', replace: 'force' });
    expect(folder.replaces).toBe(true);
    await writeFile(join(folder.work, 'new.txt'), 'new');
    expect((await readdir(out)).sort()).toEqual(['notes.md', 'old.txt']);
    await folder.commit();
    expect(await readdir(out)).toEqual(['new.txt']);
    expect(await readdir(base)).toEqual(['out']); // no staging or old folder left
  });

  it('own-run: an earlier output of the command is replaced; other files are refused', async () => {
    const own = await existing({ 'report.json': '{}' });
    const folder = await createOutputFolder(own.out, { option: '--out', replace: 'own-run', ownFiles: ['report.json', 'model.ckpt'] });
    await writeFile(join(folder.work, 'model.ckpt'), 'c');
    await folder.commit();
    expect(await readdir(own.out)).toEqual(['model.ckpt']);
    const foreign = await existing({ 'report.json': '{}', 'thesis.tex': '…' });
    await expect(createOutputFolder(foreign.out, { option: '--out', replace: 'own-run', ownFiles: ['report.json'] })).rejects.toThrow(/holds files this command did not write \(thesis\.tex\)/);
  });

  it.each<ReplacePolicy>(['refuse', 'force', 'own-run'])('%s: a file at the target is refused', async (replace) => {
    const base = await tempDir('folder');
    await writeFile(join(base, 'out'), 'a file');
    await expect(createOutputFolder(join(base, 'out'), { option: '--out', replace })).rejects.toThrow(/--out .*out is a file, not a folder/);
    expect(await readdir(base)).toEqual(['out']);
  });

  it('a stopped run: keepPartial moves it in when nothing was there, else keeps it beside the earlier output', async () => {
    const base = await tempDir('folder');
    const fresh = await createOutputFolder(join(base, 'out'), { option: '--out', replace: 'own-run', ownFiles: ['model.ckpt'] });
    await writeFile(join(fresh.work, 'model.ckpt'), '1');
    expect(await fresh.keepPartial()).toBe(join(base, 'out'));
    const again = await createOutputFolder(join(base, 'out'), { option: '--out', replace: 'own-run', ownFiles: ['model.ckpt'] });
    await writeFile(join(again.work, 'model.ckpt'), '2');
    const where = await again.keepPartial();
    expect(where).toBe(again.work);
    expect(await readFile(join(base, 'out', 'model.ckpt'), 'utf8')).toBe('1');
    expect(await readFile(join(where, 'model.ckpt'), 'utf8')).toBe('2');
  });

  it('discard removes the staging folder; discardIfEmpty only an empty one; a resumed folder is written in place', async () => {
    const base = await tempDir('folder');
    const a = await createOutputFolder(join(base, 'a'), { option: '--out', replace: 'refuse' });
    await writeFile(join(a.work, 'x'), 'x');
    await a.discardIfEmpty();
    expect(await readdir(base)).toHaveLength(1);
    await a.discard();
    expect(await readdir(base)).toEqual([]);
    const resumed = resumeOutputFolder(base);
    expect(resumed.work).toBe(base);
    expect(await resumed.commit()).toBe(base);
  });
});
