import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

// train and eval on fixture trees written in the real releases' layouts (probunet data fixtures):
// what a user with LIDC crops or Cityscapes on disk runs, end to end, on tiny inputs.
const TINY = (inputChannels: number, numClasses: number) => ({ type: 'prob-unet', inputChannels, numClasses, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 });

describe('train and eval on the real dataset layouts', () => {
  it.each([
    ['lidc', 1, 2, 'train', 'train'],
    ['cityscapes', 3, 24, 'test', 'test'],
  ] as const)('%s', async (source, channels, classes, trainSplit, evalSplit) => {
    const root = await tempDir(`layout-${source}`);
    const data = join(root, 'data');
    expect((await runCli(['data', 'fixtures', '--source', source, '--out', data])).code).toBe(0);
    await writeFile(join(root, 'model.json'), JSON.stringify(TINY(channels, classes)));
    const run = join(root, 'run');
    const t = await runCli(['train', '--model', join(root, 'model.json'), '--data', source, '--root', data, '--split', trainSplit, '--steps', '2', '--batch', '1', '--backend', 'cpu', '--out', run]);
    expect(t.code, t.err).toBe(0);
    const e = await runCli(['eval', '--checkpoint', join(run, 'model.ckpt'), '--data', source, '--root', data, '--split', evalSplit, '--samples', '1,2', '--limit', '2', '--backend', 'cpu', '--out', join(root, 'eval'), '--json']);
    expect(e.code, e.err).toBe(0);
    const summary = JSON.parse(e.out);
    expect(summary.images).toBeGreaterThan(0);
    expect(summary.bySampleCount.map((s: { samples: number }) => s.samples)).toEqual([1, 2]);
  }, 180_000);
});
