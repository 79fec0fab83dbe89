import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir, writeSyntheticPngs } from './helpers.js';

const DATA = ['--data', 'synthetic-lidc', '--size', '32', '--count', '8', '--batch', '2', '--backend', 'cpu', '--log-every', '1'];
const SUCCESSORS = [
  ['ssn', { type: 'ssn', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, rank: 2, mcSamples: 4 }],
  ['hierarchical-prob-unet', { type: 'hierarchical-prob-unet', inputChannels: 1, numClasses: 2, channels: [4, 8, 8], convsPerBlock: 1, latentDims: [1, 1] }],
] as const;

// The successors (@probunet/successors) through the CLI as any model: train from a JSON config,
// on data-parallel workers too (the workers rebuild them through the successors plugin), then sample
// from the checkpoint.
describe.each(SUCCESSORS)('probunet with %s', (type, config) => {
  it('trains (in this thread and on 2 workers) and samples from its checkpoint', async () => {
    const root = await tempDir(`cli-${type}`);
    const model = join(root, 'model.json');
    await writeFile(model, JSON.stringify(config));
    const a = await runCli(['train', '--model', model, ...DATA, '--steps', '2', '--out', join(root, 'run')]);
    expect(a.code, a.err).toBe(0);
    const b = await runCli(['train', '--model', model, ...DATA, '--steps', '2', '--workers', '2', '--out', join(root, 'workers')]);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(new RegExp(`training ${type}: .*2 data-parallel worker threads`));
    const { image } = await writeSyntheticPngs(root);
    const s = await runCli(['sample', '--checkpoint', join(root, 'run', 'model.ckpt'), '--image', image, '-n', '3', '--out', join(root, 'samples'), '--backend', 'cpu', '--json']);
    expect(s.code, s.err).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({ model: type, samples: 3, height: 32, width: 32, numClasses: 2 });
    expect(await readdir(join(root, 'samples'))).toEqual(expect.arrayContaining(['sample-00.png', 'sample-02.png']));
  }, 120_000);
});
