import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint } from '@probunet/core/node';
import { describe, expect, it } from 'vitest';
import { TINY_PROB_UNET, runCli, tempDir } from './helpers.js';

const DATA = ['--data', 'synthetic-lidc', '--size', '32', '--count', '8', '--batch', '2', '--backend', 'cpu', '--log-every', '1'];

async function readLog(dir: string): Promise<Array<{ step: number; loss: number; terms: Record<string, number>; klPerDim?: number[] }>> {
  return (await readFile(join(dir, 'train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
}

describe('probunet train', () => {
  it('train 6 steps straight equals 3 steps, SIGINT, resume to 6 (same JSONL losses)', async () => {
    const root = await tempDir('train');
    const model = join(root, 'model.json');
    await writeFile(model, JSON.stringify(TINY_PROB_UNET));
    const straight = join(root, 'straight');
    const a = await runCli(['train', '--model', model, ...DATA, '--steps', '6', '--save-every', '2', '--out', straight]);
    expect(a.code, a.err).toBe(0);
    expect((await readdir(straight)).sort()).toEqual(['model.ckpt', 'run.json', 'train.jsonl']);
    expect(a.err).toMatch(/train 6\/6 100%\s+loss [\d.]+\s+reconstruction [\d.]+\s+kl [\d.]+\s+[\d.]+ step\/s .* left/);

    const split = join(root, 'split');
    let sent = false;
    const b = await runCli(['train', '--model', model, ...DATA, '--steps', '6', '--save-every', '100', '--out', split], (line) => {
      if (!sent && /train 3\/6/.test(line)) {
        sent = true;
        process.emit('SIGINT', 'SIGINT');
      }
    });
    expect(b.code, b.err).toBe(130);
    expect(b.err).toMatch(/--resume/);
    expect(JSON.parse(await readFile(join(split, 'run.json'), 'utf8'))).toMatchObject({ status: 'interrupted', step: 3 });
    const c = await runCli(['train', '--resume', split, '--backend', 'cpu']);
    expect(c.code, c.err).toBe(0);

    const want = await readLog(straight);
    const got = await readLog(split);
    expect(want.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // Same backend, same restored weights, moments, RNG and data order: bit-identical losses.
    expect(got.map((r) => [r.step, r.loss, r.terms])).toEqual(want.map((r) => [r.step, r.loss, r.terms]));
    for (const r of want) {
      expect(r.klPerDim).toHaveLength(2);
      expect(r.klPerDim!.every((v) => Number.isFinite(v) && v >= -1e-6)).toBe(true);
    }
    const restored = await loadCheckpoint(join(split, 'model.ckpt'));
    expect(restored.trainer?.step).toBe(6);
    restored.model.dispose();
    restored.trainer?.dispose();
  }, 120_000);

  it('trains a baseline from a preset-free config and refuses an existing --out without --force', async () => {
    const root = await tempDir('train-baseline');
    const model = join(root, 'm-heads.json');
    await writeFile(model, JSON.stringify({ type: 'm-heads', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, heads: 2 }));
    const out = join(root, 'run');
    const a = await runCli(['train', '--model', model, ...DATA, '--steps', '2', '--out', out]);
    expect(a.code, a.err).toBe(0);
    const log = await readLog(out);
    expect(log).toHaveLength(2);
    expect(log[0]!.klPerDim).toBeUndefined();
    const again = await runCli(['train', '--model', model, ...DATA, '--steps', '2', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists: pass --force/);
    expect((await readdir(root)).sort()).toEqual(['m-heads.json', 'run']); // no temp folder left
    expect((await runCli(['train', '--model', model, ...DATA, '--steps', '1', '--out', out, '--force'])).code).toBe(0);
    expect(await readLog(out)).toHaveLength(1);
  }, 120_000);

  it('stops on a non-finite update naming it, keeps the last good state, exits 1', async () => {
    const root = await tempDir('train-nan');
    const model = join(root, 'model.json');
    await writeFile(model, JSON.stringify(TINY_PROB_UNET));
    const out = join(root, 'run');
    const r = await runCli(['train', '--model', model, ...DATA, '--steps', '3', '--lr', '1e38', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/stopped at step 1: the update went non-finite/);
    const restored = await loadCheckpoint(join(out, 'model.ckpt'));
    expect(restored.trainer?.step).toBe(0);
    restored.model.dispose();
    restored.trainer?.dispose();
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).status).toBe('non-finite');
  }, 60_000);
});
