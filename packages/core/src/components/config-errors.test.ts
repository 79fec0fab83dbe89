import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../errors.js';
import { ConvGaussian } from './conv-gaussian.js';
import { TileConcatFusion } from './fusion-head.js';
import { UNetEncoder, type UNetEncoderConfig } from './unet-encoder.js';
import { componentFactory, corePlugin } from '../registry.js';

// Each component validates its own config where it is defined and throws ConfigError there (no
// layer above converts RangeError/TypeError); a tensor of the wrong shape at run time is InputError.

describe('components check their own configs', () => {
  it.each([
    ['unet: empty channels', () => new UNetEncoder({ inputChannels: 1, channels: [], convsPerBlock: 1 }), /channels must be a non-empty list/],
    ['unet: convsPerBlock 0', () => new UNetEncoder({ inputChannels: 1, channels: [4], convsPerBlock: 0 }), /convsPerBlock must be a positive integer/],
    ['conv-gaussian: logSigmaBound 0', () => new ConvGaussian({ imageChannels: 1, channels: [4], convsPerBlock: 1, latentDim: 2, logSigmaBound: 0 }), /logSigmaBound must be > 0/],
    ['conv-gaussian: conditionChannels 1.5', () => new ConvGaussian({ imageChannels: 1, conditionChannels: 1.5, channels: [4], convsPerBlock: 1, latentDim: 2 }), /conditionChannels must be an integer/],
    ['fusion: one class', () => new TileConcatFusion({ featureChannels: 4, latentDim: 2, numClasses: 1, num1x1Convs: 1 }), /numClasses must be ≥ 2/],
    ['fusion: num1x1Convs −1', () => new TileConcatFusion({ featureChannels: 4, latentDim: 2, numClasses: 2, num1x1Convs: -1 }), /num1x1Convs must be an integer ≥ 0/],
  ])('%s → ConfigError', (_name, build, message) => {
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(message);
  });

  it('a tensor of the wrong shape at run time is an InputError', () => {
    const head = new TileConcatFusion({ featureChannels: 4, latentDim: 2, numClasses: 2, num1x1Convs: 1 });
    const prior = new ConvGaussian({ imageChannels: 1, channels: [4], convsPerBlock: 1, latentDim: 2 });
    const features = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const z = tf.zeros([1, 2]) as tf.Tensor2D;
    const image = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => head.apply(features, z)).toThrow(InputError);
    expect(() => prior.apply(image, image)).toThrow(InputError);
    tf.dispose([features, z, image]);
    head.dispose();
    prior.dispose();
  });
});

describe('typed component factories', () => {
  it('hand the component its own config type, and refuse a config of another type', () => {
    const make = componentFactory<UNetEncoderConfig, UNetEncoder>('unet', (c) => new UNetEncoder(c));
    const encoder = make({ type: 'unet', inputChannels: 1, channels: [4], convsPerBlock: 1, seed: 0 });
    expect(encoder.getConfig()).toEqual({ type: 'unet', inputChannels: 1, channels: [4], convsPerBlock: 1, seed: 0 });
    encoder.dispose();
    expect(() => make({ type: 'conv-gaussian' })).toThrow(ConfigError);
    expect(() => make({ type: 'conv-gaussian' })).toThrow(/a factory for "unet" was given a "conv-gaussian" config/);
    // The core plugin's factories are these typed ones: a bad field is the component's ConfigError.
    expect(() => corePlugin.encoders!.unet!({ type: 'unet', inputChannels: 1, channels: 'many', convsPerBlock: 1 })).toThrow(/unet encoder: channels must be a non-empty list/);
  });
});
