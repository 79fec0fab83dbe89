import * as tf from '@tensorflow/tfjs-core';
import type { SeededRandom } from '../ops/random.js';
import { ConvLayer } from './conv-layer.js';
import type { Parameter } from '../spec/parameter.js';

/**
 * The contracting path shared by the U-Net and the latent nets (the authors' `VGG_Encoder`):
 * level i = (2×2 average pool, stride 2, for i > 0) then `convsPerBlock` × (3×3 conv + ReLU).
 */
export class DownPath {
  readonly levels: ConvLayer[][];

  constructor(inputChannels: number, channels: readonly number[], convsPerBlock: number, rng: SeededRandom) {
    let cin = inputChannels;
    this.levels = channels.map((cout) => {
      const block: ConvLayer[] = [];
      for (let j = 0; j < convsPerBlock; j++) {
        block.push(
          new ConvLayer({ kernelSize: 3, inputChannels: cin, outputChannels: cout, activation: 'relu', weightDecay: true, rng }),
        );
        cin = cout;
      }
      return block;
    });
  }

  /** Returns the output of every level, finest first. Caller owns them. */
  apply(x: tf.Tensor4D): tf.Tensor4D[] {
    const outputs: tf.Tensor4D[] = [];
    let h = x;
    this.levels.forEach((block, i) => {
      if (i > 0) h = tf.avgPool(h, 2, 2, 'same');
      for (const layer of block) h = layer.apply(h);
      outputs.push(h);
    });
    return outputs;
  }

  parameters(prefix: string): Parameter[] {
    return this.levels.flatMap((block, i) => block.flatMap((layer, j) => layer.parameters(`${prefix}${i}/conv${j}`)));
  }

  dispose(): void {
    for (const block of this.levels) for (const layer of block) layer.dispose();
  }
}
