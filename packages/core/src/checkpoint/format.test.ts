import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { createProbUNet } from '../model/create.js';
import { Trainer } from '../training/trainer.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from './format.js';
import { crc32 } from './crc32.js';

const tiny = { inputChannels: 1, numClasses: 3, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 2 };

describe('checkpoint format', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips config, weights and meta; samples are identical after loading', async () => {
    const model = createProbUNet(tiny);
    const bytes = await encodeCheckpoint(model, undefined, { note: 'hello' });
    const { model: copy, header, trainerState } = restoreCheckpoint(bytes);
    expect(trainerState).toBeUndefined();
    expect(header.meta).toEqual({ note: 'hello' });
    expect(copy.getConfig()).toEqual(model.getConfig());
    const x = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = model.sample(x, 3, { seed: 4 });
    const b = copy.sample(x, 3, { seed: 4 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    model.dispose();
    copy.dispose();
  });

  it('stores optimizer moments and step with a trainer', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    await trainer.trainStep({ images: tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, labels: tf.zeros([1, 8, 8], 'int32') as tf.Tensor3D });
    const { header, tensors } = decodeCheckpoint(await encodeCheckpoint(model, trainer));
    expect(header.trainer?.step).toBe(1);
    const names = [...tensors.keys()];
    expect(names.filter((n) => n.startsWith('optimizer/')).length).toBe(2 * model.parameters().length);
    tf.dispose([...tensors.values()]);
    trainer.dispose();
    model.dispose();
  });

  it.each([
    ['bad magic', (b: Uint8Array) => Uint8Array.from(b).fill(0, 0, 4), /not a probunet checkpoint/],
    ['truncated data', (b: Uint8Array) => b.slice(0, b.length - 10), /truncated/],
    ['truncated header', (b: Uint8Array) => b.slice(0, 40), /truncated inside its header/],
    [
      'flipped weight bit',
      (b: Uint8Array) => {
        const c = Uint8Array.from(b);
        c[c.length - 3]! ^= 0x10;
        return c;
      },
      /CRC-32/,
    ],
  ])('rejects a corrupt file: %s', async (_name, damage, message) => {
    const model = createProbUNet(tiny);
    const bytes = await encodeCheckpoint(model);
    model.dispose();
    const before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(damage(bytes), { source: 'ckpt.bin' })).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(damage(bytes), { source: 'ckpt.bin' })).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});
