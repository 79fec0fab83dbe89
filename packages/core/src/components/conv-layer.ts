import * as tf from '@tensorflow/tfjs-core';
import { conv2dSame, type Activation } from '../ops/conv.js';
import type { SeededRandom } from '../ops/random.js';
import type { Parameter } from '../spec/parameter.js';

/** Truncated-normal correction: a normal cut at ±2σ has standard deviation 0.87962566 σ. */
const TRUNCATION_STD = 0.8796256610342398;

export interface ConvLayerOptions {
  kernelSize: number;
  inputChannels: number;
  outputChannels: number;
  activation: Activation;
  /** Applies the loss's L2 weight decay to this kernel. */
  weightDecay: boolean;
  rng: SeededRandom;
}

/**
 * A stride-1 SAME convolution with bias, initialised as in the authors' code: He-normal truncated
 * kernels (std √(2/fan_in), corrected for the ±2σ truncation) and truncated-normal biases σ = 0.001.
 */
export class ConvLayer {
  readonly kernel: tf.Variable<tf.Rank.R4>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  readonly options: Omit<ConvLayerOptions, 'rng'>;

  constructor(options: ConvLayerOptions) {
    const { kernelSize: k, inputChannels: ci, outputChannels: co, rng } = options;
    this.options = {
      kernelSize: k,
      inputChannels: ci,
      outputChannels: co,
      activation: options.activation,
      weightDecay: options.weightDecay,
    };
    const std = Math.sqrt(2 / (k * k * ci)) / TRUNCATION_STD;
    this.kernel = tf.tidy(() => tf.variable(tf.truncatedNormal([k, k, ci, co], 0, std, 'float32', rng.nextSeed())));
    this.bias = tf.tidy(() => tf.variable(tf.truncatedNormal([co], 0, 0.001, 'float32', rng.nextSeed())));
  }

  /** x [B,H,W,inputChannels] → [B,H,W,outputChannels]. Caller owns the result. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2dSame(x, this.kernel, this.bias, this.options.activation);
  }

  parameters(prefix: string): Parameter[] {
    return [
      { name: `${prefix}/kernel`, variable: this.kernel, weightDecay: this.options.weightDecay },
      { name: `${prefix}/bias`, variable: this.bias, weightDecay: false },
    ];
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}
