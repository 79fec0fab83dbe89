/**
 * The CLI's reliability suite (issue 18): help everywhere, unknown splits, the demo's --size and
 * --out checked before training, and re-runs that never mix two runs. docs/reliability-data.md
 * lists each case with what it gets now. Training here is a few steps of the smallest model.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '@probunet/core/node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/index.js';

const pickleFixture = fileURLToPath(new URL('../../../packages/datasets/src/node/__fixtures__/lidc-tiny-protocol4.pickle', import.meta.url));
/** The smallest demo: wasm backend in this thread, 32×32, a handful of images. */
const tiny = ['--backend', 'wasm', '--workers', '0', '--train-images', '8', '--test-images', '1', '--samples', '2', '--batch', '2'];

describe('probunet CLI reliability', () => {
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(['data --help', 'data -h', 'data check --help', 'data fixtures -h', 'demo -h', 'backends -h', '-h'])('probunet %s prints help and exits 0', async (line) => {
    expect(await main(line.split(' '))).toBe(0);
    // A command's own help lists its options; the top-level -h is the short list of commands.
    expect(out).toMatch(line === '-h' ? /--version[\s\S]*Commands:[\s\S]*demo[\s\S]*train/ : /--source|--out|--backend/);
  });

  it('an unknown --split is an error listing the splits there are', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-split-'));
    await main(['data', 'fixtures', '--source', 'lidc', '--out', dir]);
    await expect(main(['data', 'check', '--source', 'lidc', '--root', dir, '--split', 'bogus'])).rejects.toThrow(/unknown split "bogus": .* has train/);
    await expect(main(['data', 'check', '--source', 'lidc-pickle', '--root', pickleFixture, '--split', 'bogus'])).rejects.toThrow(/unknown split "bogus": use train, val or test/);
    await expect(main(['data', 'check', '--source', 'cityscapes', '--root', dir, '--split', 'bogus'])).rejects.toThrow(/unknown split "bogus": use train, val or test/);
  });

  it('data check --max-png-bytes overrides the dataset\u2019s PNG size limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-maxpng-'));
    await main(['data', 'fixtures', '--source', 'lidc', '--out', dir]);
    out = '';
    expect(await main(['data', 'check', '--source', 'lidc', '--root', dir, '--max-png-bytes', '1000'])).toBe(1);
    const summary = JSON.parse(out);
    expect(summary.images).toBe(0);
    expect(summary.problems[0].problem).toMatch(/declares 180×180 .* over the limit of 1,000 bytes \(maxPngBytes\)/);
  });

  it('demo --size 33 is refused before training, naming the divisor', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'probunet-size-')), 'run');
    await expect(main(['demo', '--out', dir, '--size', '33', '--steps', '2', ...tiny])).rejects.toThrow(/--size 33 is not a multiple of 4, .*: use 32 or 36/);
    expect(err).not.toMatch(/^training:/m);
    await expect(readdir(join(dir, '..'))).resolves.toEqual([]);
  });

  it('demo --out naming a file, or a folder of other files, is refused before training', async () => {
    const base = await mkdtemp(join(tmpdir(), 'probunet-out-'));
    await writeFile(join(base, 'file'), 'not a folder');
    // A bad --out is a usage error: exit 2, one line on stderr naming the problem and the fix.
    expect(await main(['demo', '--out', join(base, 'file'), '--steps', '2', ...tiny])).toBe(2);
    expect(err).toMatch(/--out .*file is a file, not a folder/);
    await mkdir(join(base, 'notes'));
    await writeFile(join(base, 'notes', 'thesis.tex'), '…');
    expect(await main(['demo', '--out', join(base, 'notes'), '--steps', '2', ...tiny])).toBe(2);
    expect(err).toMatch(/holds files this command did not write \(thesis.tex\)/);
    expect(err).not.toMatch(/^training:/m);
    expect((await readdir(base)).sort()).toEqual(['file', 'notes']);
  });

  it.skipIf(process.getuid?.() === 0)('demo --out in a read-only folder is refused before training (skipped as root, who may write anywhere)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'probunet-ro-'));
    await chmod(base, 0o555);
    expect(await main(['demo', '--out', join(base, 'run'), '--steps', '2', ...tiny])).toBe(2);
    expect(err).toMatch(/cannot write the output beside --out .*: EACCES/);
    expect(err).not.toMatch(/^training:/m);
    await chmod(base, 0o755);
  });

  it.skipIf(!existsSync('/sys/kernel'))('demo --out where nobody may write (Linux /sys, root included) is refused before training', async () => {
    expect(await main(['demo', '--out', '/sys/probunet-run', '--steps', '2', ...tiny])).toBe(2);
    expect(err).toMatch(/cannot write the output beside --out \/sys\/probunet-run \(in \/sys\): (EPERM|EACCES|EROFS); choose a writable location/);
    expect(err).not.toMatch(/^training:/m);
  });

  it('a re-run replaces the earlier run whole; a re-run stopped by Ctrl-C leaves it untouched and keeps its own checkpoint', async () => {
    const base = await mkdtemp(join(tmpdir(), 'probunet-rerun-'));
    const target = join(base, 'run');
    expect(await main(['demo', '--out', target, '--steps', '2', ...tiny])).toBe(0);
    const files = ['model.ckpt', 'report.json', 'samples.png', 'training-curve.png', 'training-curve.svg'];
    expect((await readdir(target)).sort()).toEqual(files);
    expect((await stat(target)).mode & 0o777).toBe(0o777 & ~process.umask()); // a usual folder, not mkdtemp's private one
    const first = await Promise.all(files.map((f) => readFile(join(target, f))));

    // Ctrl-C as soon as training starts: the step under way finishes, its checkpoint is saved.
    vi.mocked(process.stderr.write).mockImplementation((s) => {
      err += String(s);
      if (/^training:/m.test(String(s))) setImmediate(() => process.emit('SIGINT'));
      return true;
    });
    expect(await main(['demo', '--out', target, '--steps', '10000', '--seed', '1', ...tiny])).toBe(130);
    const after = await Promise.all(files.map((f) => readFile(join(target, f))));
    after.forEach((bytes, i) => expect(bytes.equals(first[i]!), files[i]).toBe(true));
    const beside = (await readdir(base)).filter((f) => f !== 'run');
    expect(beside).toHaveLength(1);
    expect(beside[0]).toMatch(/^run\.incomplete-/);
    expect(await readdir(join(base, beside[0]!))).toEqual(['model.ckpt']);
    const partial = await loadCheckpoint(join(base, beside[0]!, 'model.ckpt'));
    expect(partial.trainerState?.state.step).toBeGreaterThanOrEqual(1);
    expect(partial.trainerState?.state.step).toBeLessThan(10000);
    partial.model.dispose();
    expect(err).toMatch(/stopped at step \d+: checkpoint .*run\.incomplete-.*model\.ckpt; the earlier run in .*run is untouched/);

    // A completed re-run replaces the earlier run as a whole and leaves nothing beside it but the stopped one.
    vi.mocked(process.stderr.write).mockImplementation((s) => ((err += String(s)), true));
    expect(await main(['demo', '--out', target, '--steps', '3', '--seed', '2', ...tiny])).toBe(0);
    expect((await readdir(base)).sort()).toEqual(['run', beside[0]!]);
    const report = JSON.parse(await readFile(join(target, 'report.json'), 'utf8'));
    expect(report.training.steps).toBe(3);
    expect(report.data.seed).toBe(2);
  }, 120_000);
});
