import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { createProbUNet } from '../model/create.js';
import { Trainer } from '../training/trainer.js';
import { writeFileAtomic } from './atomic-write.js';
import { encodeCheckpoint } from '../checkpoint/format.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 };

describe('checkpoint files', () => {
  it('saves and loads a model with its trainer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-ckpt-'));
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    await trainer.trainStep({ images: tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, labels: tf.zeros([1, 8, 8], 'int32') as tf.Tensor3D });
    await saveCheckpoint(join(dir, 'a.ckpt'), model, trainer);
    const restored = await loadCheckpoint(join(dir, 'a.ckpt'));
    expect(restored.trainerState?.state.step).toBe(1);
    expect(await readdir(dir)).toEqual(['a.ckpt']); // no temporary file left
    restored.model.dispose();
    trainer.dispose();
    model.dispose();
  });

  it('names the file when it cannot be read or is not a checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-ckpt-'));
    await expect(loadCheckpoint(join(dir, 'missing.ckpt'))).rejects.toThrow(/cannot read checkpoint .*missing.ckpt/);
    await writeFile(join(dir, 'junk.ckpt'), 'not a checkpoint at all');
    await expect(loadCheckpoint(join(dir, 'junk.ckpt'))).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(dir, 'junk.ckpt'))).rejects.toThrow(/junk.ckpt is not a probunet checkpoint/);
  });

  it('a failed write leaves the previous file intact and no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-atomic-'));
    const target = join(dir, 'report.json');
    await writeFileAtomic(target, 'old');
    // Writing something that is not bytes fails inside the write, after the temp file was opened.
    await expect(writeFileAtomic(target, 42 as unknown as string)).rejects.toThrow();
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['report.json']);
  });

  it('a process killed mid-save never damages the last good checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probunet-kill-'));
    const target = join(dir, 'model.ckpt');
    // Two real checkpoints of a LIDC-sized model (≈ 9 MB each), so a kill lands mid-write often.
    const config = { inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3 };
    for (const [name, seed] of [['a.bin', 1], ['b.bin', 2]] as const) {
      const m = createProbUNet({ ...config, seed });
      await writeFile(join(dir, name), await encodeCheckpoint(m, undefined, { version: name }));
      m.dispose();
    }
    const script = fileURLToPath(new URL('../../test/fixtures/save-loop.ts', import.meta.url));
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, target, join(dir, 'a.bin'), join(dir, 'b.bin')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`save loop exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, 40 + 37 * round)); // kill at an arbitrary point
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const restored = await loadCheckpoint(target);
      expect(['a.bin', 'b.bin']).toContain(restored.header.meta?.version);
      restored.model.dispose();
    }
    // Each kill may leave a hidden temp file; the next save of the same target removes them.
    await writeFileAtomic(target, await readFile(join(dir, 'a.bin')));
    expect((await readdir(dir)).sort()).toEqual(['a.bin', 'b.bin', 'model.ckpt']);
  }, 120_000);
});
