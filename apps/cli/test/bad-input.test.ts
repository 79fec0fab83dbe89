import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_PROB_UNET, runCli, tempDir, writeSyntheticPngs } from './helpers.js';

describe('bad input: one line naming the problem, non-zero exit, no stack unless --verbose', () => {
  let root = '';
  let ckpt = '';
  let baseline = '';
  let image = '';
  let annotation = '';
  const train = ['--data', 'synthetic-lidc', '--size', '32', '--count', '4', '--batch', '2', '--steps', '1', '--backend', 'cpu'];
  beforeAll(async () => {
    root = await tempDir('bad');
    await writeFile(join(root, 'model.json'), JSON.stringify(TINY_PROB_UNET));
    await writeFile(join(root, 'dropout.json'), JSON.stringify({ type: 'dropout-unet', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1 }));
    expect((await runCli(['train', '--model', join(root, 'model.json'), ...train, '--out', join(root, 'run')])).code).toBe(0);
    expect((await runCli(['train', '--model', join(root, 'dropout.json'), ...train, '--out', join(root, 'dropout')])).code).toBe(0);
    ckpt = join(root, 'run', 'model.ckpt');
    baseline = join(root, 'dropout', 'model.ckpt');
    ({ image, annotation } = await writeSyntheticPngs(root));
    // format version 9: same header length, so only the version check can object
    const bytes = await readFile(ckpt);
    await writeFile(join(root, 'v9.ckpt'), Buffer.from(bytes.toString('latin1').replace('"version":2', '"version":9'), 'latin1'));
    await writeFile(join(root, 'rgb.png'), encode({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3), channels: 3, depth: 8 }));
    await writeFile(join(root, 'odd.png'), encode({ width: 31, height: 31, data: new Uint8Array(31 * 31), channels: 1, depth: 8 }));
    await writeFile(join(root, 'small-mask.png'), encode({ width: 16, height: 16, data: new Uint8Array(16 * 16), channels: 1, depth: 8 }));
    await writeFile(join(root, 'bad.json'), '{"type": "prob-unet", "inputChannels": 1,');
    await writeFile(join(root, 'typo.json'), JSON.stringify({ type: 'dropout-unet', inputChannels: 1, numClasses: 2, chanels: [4] }));
    await writeFile(join(root, 'rgb-model.json'), JSON.stringify({ ...TINY_PROB_UNET, inputChannels: 3 }));
  }, 60_000);

  const r = (p: string) => join(root, p);
  const cases: Array<[string, () => string[], number, RegExp]> = [
    ['unknown command', () => ['frobnicate'], 2, /unknown command "frobnicate"/],
    ['unknown option', () => ['train', '--stepz', '3'], 2, /Unknown option '--stepz'/],
    ['bad option value', () => ['train', '--model', r('model.json'), ...train, '--steps', 'zero', '--out', r('x')], 2, /--steps must be an integer ≥ 1, got "zero"/],
    ['unknown data source', () => ['train', '--model', 'lidc', '--data', 'mnist', '--out', r('x')], 2, /--data must be one of synthetic-lidc/],
    ['missing model file', () => ['train', '--model', r('nope.json'), ...train, '--out', r('x')], 2, /--model .*nope\.json: no such file/],
    ['model config not JSON', () => ['train', '--model', r('bad.json'), ...train, '--out', r('x')], 2, /bad\.json is not valid JSON/],
    ['config error', () => ['train', '--model', r('typo.json'), ...train, '--out', r('x')], 1, /dropout-unet: unknown option "chanels"/],
    ['model does not fit the data', () => ['train', '--model', r('rgb-model.json'), ...train, '--out', r('x')], 2, /takes 3 input channel\(s\), the data has 1/],
    ['missing --root', () => ['train', '--model', 'lidc', '--data', 'lidc', '--out', r('x')], 2, /--root is required for --data lidc/],
    ['resume with other settings', () => ['train', '--resume', r('run'), '--seed', '3', '--lr', '1e-5'], 2, /drop --seed \(only --steps, --lr, --workers, --backend, --save-every and --log-every may change\)/],
    ['a schedule without steps', () => ['train', '--model', r('model.json'), ...train, '--lr', '1e-4,5e-5', '--out', r('x')], 2, /--lr needs @STEP .* after every rate but the first/],
    ['a bad worker count', () => ['train', '--model', r('model.json'), ...train, '--workers', 'two', '--out', r('x')], 2, /--workers must be an integer ≥ 0, got "two"/],
    ['resume of a folder that is no run', () => ['train', '--resume', r('nothing')], 2, /run\.json is missing/],
    ['missing checkpoint', () => ['sample', '--checkpoint', r('none.ckpt'), '--image', image, '--out', r('s')], 2, /--checkpoint .*none\.ckpt: no such file/],
    ['checkpoint of another format version', () => ['sample', '--checkpoint', r('v9.ckpt'), '--image', image, '--out', r('s')], 1, /format version 9; this build reads versions 1 and 2/],
    ['not a checkpoint', () => ['sample', '--checkpoint', r('model.json'), '--image', image, '--out', r('s')], 1, /not a probunet checkpoint/],
    ['checkpoint of another model type', () => ['score', '--checkpoint', baseline, '--image', image, '--annotation', annotation], 2, /holds a "dropout-unet" model; score needs a prob-unet checkpoint/],
    ['another model type for latent', () => ['latent', '--checkpoint', baseline, '--image', image, '--out', r('l.png')], 2, /latent needs a prob-unet checkpoint/],
    ['missing image', () => ['sample', '--checkpoint', ckpt, '--image', r('none.png'), '--out', r('s')], 2, /--image .*none\.png: no such file/],
    ['image with the wrong channels', () => ['sample', '--checkpoint', ckpt, '--image', r('rgb.png'), '--out', r('s')], 2, /has 3 colour channels \(RGB\), the model takes 1/],
    ['image of the wrong size', () => ['latent', '--checkpoint', ckpt, '--image', r('odd.png'), '--out', r('l.png')], 2, /is 31×31; the model down-samples by 2/],
    ['annotation of the wrong size', () => ['score', '--checkpoint', ckpt, '--image', image, '--annotation', r('small-mask.png')], 2, /is 16×16, the image is 32×32/],
    ['image that is not a PNG', () => ['sample', '--checkpoint', ckpt, '--image', r('model.json'), '--out', r('s')], 1, /corrupt or truncated PNG/],
  ];

  it.each(cases)('%s', async (_name, argv, code, message) => {
    const res = await runCli(argv());
    expect(res.code).toBe(code);
    const line = res.err.split('\n').find((l) => l.startsWith('probunet')); // after the backend report, if any
    expect(line).toMatch(message);
    expect(res.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--verbose adds the stack trace', async () => {
    const res = await runCli(['sample', '--checkpoint', r('v9.ckpt'), '--image', image, '--out', r('s'), '--verbose']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/\n\s+at /);
  });

  it.each(['train', 'sample', 'score', 'latent'])('%s --help shows the options and an example', async (command) => {
    const res = await runCli([command, '--help']);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(new RegExp(`^probunet ${command} — `));
    expect(res.out).toMatch(/Example:\n\s+probunet /);
  });
});
