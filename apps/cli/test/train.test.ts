import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint } from '@probunet/core/node';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TINY_PROB_UNET, runCli, tempDir } from './helpers.js';

const DATA = ['--data', 'synthetic-lidc', '--size', '32', '--count', '8', '--batch', '2', '--backend', 'cpu', '--log-every', '1'];

async function readLog(dir: string): Promise<Array<{ step: number; loss: number; terms: Record<string, number>; learningRate: number; klPerDim?: number[] }>> {
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
    expect((await readdir(straight)).sort()).toEqual(['model.ckpt', 'run.json', 'train.jsonl', 'training-curve.png', 'training-curve.svg']);
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
    expect(restored.trainerState?.state.step).toBe(6);
    restored.model.dispose();
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
    expect(restored.trainerState?.state.step).toBe(0);
    restored.model.dispose();
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).status).toBe('non-finite');
  }, 60_000);

  it('--lr may change on --resume: printed, recorded in run.json, applied from the checkpoint step on; other options are refused', async () => {
    const root = await tempDir('train-lr');
    const model = join(root, 'model.json');
    await writeFile(model, JSON.stringify(TINY_PROB_UNET));
    // The reference: one run with the schedule 1e-3, then 1e-4 from step 2 on.
    const straight = join(root, 'straight');
    expect((await runCli(['train', '--model', model, ...DATA, '--steps', '4', '--lr', '1e-3,1e-4@2', '--out', straight])).code).toBe(0);
    const run = join(root, 'run');
    expect((await runCli(['train', '--model', model, ...DATA, '--steps', '2', '--lr', '1e-3', '--out', run])).code).toBe(0);

    const refused = await runCli(['train', '--resume', run, '--batch', '4', '--lr', '1e-4']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--resume continues a run with its own settings: drop --batch \(only --steps, --lr, --workers/);

    const before = tf.memory().numTensors;
    const r = await runCli(['train', '--resume', run, '--steps', '4', '--lr', '1e-4', '--backend', 'cpu']);
    expect(r.code, r.err).toBe(0);
    // The checkpoint's trainer, the new one and the model are all freed at the end.
    expect(tf.memory().numTensors).toBe(before);
    expect(r.err).toMatch(/learning rate: 0\.001 → 0\.0001 from step 3 on/);
    const log = await readLog(run);
    expect(log.map((l) => l.learningRate)).toEqual([1e-3, 1e-3, 1e-4, 1e-4]);
    // Same losses as the straight run with the same schedule: the state moved to the new trainer whole.
    expect(log.map((l) => [l.loss, l.terms])).toEqual((await readLog(straight)).map((l) => [l.loss, l.terms]));
    const record = JSON.parse(await readFile(join(run, 'run.json'), 'utf8'));
    expect(record.training.lr).toBe(1e-4);
    expect(record.training.lrChanges).toEqual([{ afterStep: 2, from: 1e-3, to: 1e-4 }]);
    const ckpt = await loadCheckpoint(join(run, 'model.ckpt'));
    expect(ckpt.trainerState!.state.schedule).toEqual({ boundaries: [2], values: [1e-3, 1e-4] });
    ckpt.model.dispose();
    expect(await readFile(join(run, 'training-curve.svg'), 'utf8')).toContain('lr → 0.0001');

    // Resuming again with the rate in force (or none) changes nothing and records nothing.
    const again = await runCli(['train', '--resume', run, '--steps', '5', '--lr', '1e-4', '--backend', 'cpu']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).not.toMatch(/learning rate:/);
    expect(JSON.parse(await readFile(join(run, 'run.json'), 'utf8')).training.lrChanges).toHaveLength(1);
    expect((await readLog(run)).at(-1)).toMatchObject({ step: 5, learningRate: 1e-4 });
  }, 120_000);

  it('--workers 2 trains a prob-unet data-parallel: finite losses, a loadable checkpoint, resume; a baseline trains data-parallel too', async () => {
    const root = await tempDir('train-workers');
    const model = join(root, 'model.json');
    await writeFile(model, JSON.stringify(TINY_PROB_UNET));
    const run = join(root, 'run');
    // Ctrl-C after step 3: the checkpoint is saved, the workers stop, exit 130.
    let sent = false;
    const a = await runCli(['train', '--model', model, ...DATA, '--steps', '5', '--workers', '2', '--out', run], (line) => {
      if (!sent && /train 3\/5/.test(line)) {
        sent = true;
        process.emit('SIGINT', 'SIGINT');
      }
    });
    expect(a.code, a.err).toBe(130);
    expect(a.err).toMatch(/2 data-parallel worker threads \(cpu\)/);
    const log = await readLog(run);
    expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
    for (const l of log) expect(Number.isFinite(l.loss) && l.loss > 0 && Object.values(l.terms).every(Number.isFinite)).toBe(true);
    expect(JSON.parse(await readFile(join(run, 'run.json'), 'utf8'))).toMatchObject({ status: 'interrupted', step: 3, training: { workers: 2 } });
    const ckpt = await loadCheckpoint(join(run, 'model.ckpt'));
    expect(ckpt.trainerState?.state.step).toBe(3);
    ckpt.model.dispose();

    // Resume continues with the run's 2 workers.
    const b = await runCli(['train', '--resume', run, '--backend', 'cpu']);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(/resuming .* at step 3: .*2 data-parallel worker threads/);
    expect((await readLog(run)).map((l) => l.step)).toEqual([1, 2, 3, 4, 5]);

    const heads = join(root, 'm-heads.json');
    await writeFile(heads, JSON.stringify({ type: 'm-heads', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, heads: 2 }));
    // Every model type trains data-parallel: the workers rebuild it through the baselines plugin.
    const c = await runCli(['train', '--model', heads, ...DATA, '--steps', '2', '--workers', '2', '--out', join(root, 'heads')]);
    expect(c.code, c.err).toBe(0);
    expect(c.err).toMatch(/training m-heads: .*2 data-parallel worker threads/);
    const headsLog = await readLog(join(root, 'heads'));
    expect(headsLog.map((l) => l.step)).toEqual([1, 2]);
    for (const l of headsLog) expect(Number.isFinite(l.loss)).toBe(true);
    expect((await readdir(root)).sort()).toEqual(['heads', 'm-heads.json', 'model.json', 'run']);
  }, 120_000);
});
