import * as tf from '@tensorflow/tfjs-core';
import type { ConvGeometry, NativeKernels } from '@probunet/native';
import { ACTIVATIONS } from './activations.js';
import { isF32, type KernelArgs } from './host.js';

/** Conv2D and FusedConv2D (NHWC, float32; bias and a fused activation). */
export function conv(native: NativeKernels, args: KernelArgs, fused: boolean): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as {
    strides: number | [number, number];
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW';
    dilations: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
    leakyreluAlpha?: number;
  };
  const x = inputs.x as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isF32(x, filter, bias)) return null;
  if (fused && inputs.preluActivationWeights) return null;
  const activation = fused ? ACTIVATIONS[attrs.activation ?? 'linear'] : 'linear';
  if (!activation) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
  const out = backend.makeOutput(info.outShape, 'float32');
  if (tf.util.sizeFromShape(info.outShape) === 0) return out;
  // Views after makeOutput: on wasm, allocating may grow (and so replace) the heap.
  native.conv2d(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(filter), backend.typedArrayFromHeap(out), geometry(info), {
    bias: bias ? backend.typedArrayFromHeap(bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0,
  });
  return out;
}

export function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilH: info.dilationHeight,
    dilW: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}
