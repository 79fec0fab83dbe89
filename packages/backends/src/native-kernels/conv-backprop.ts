import * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { geometry } from './conv.js';
import { isF32, type KernelArgs } from './host.js';

interface BackpropAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
}

type Shape4 = [number, number, number, number];

/** The gradient of a convolution with respect to its filter (from x and dy) or its input (from dy and the filter). */
export function conv2dBackprop(native: NativeKernels, args: KernelArgs, wrt: 'filter' | 'input'): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as BackpropAttrs;
  const dy = inputs.dy as tf.TensorInfo;
  const other = (wrt === 'filter' ? inputs.x : inputs.filter) as tf.TensorInfo;
  const outShape = wrt === 'filter' ? attrs.filterShape : attrs.inputShape;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isF32(dy, other) || !outShape) return null;
  const [xShape, filterShape] = wrt === 'filter' ? [other.shape as Shape4, outShape] : [outShape, other.shape as Shape4];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  if (wrt === 'input') {
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
    if (info.padInfo.top > info.filterHeight - 1 || info.padInfo.left > info.filterWidth - 1) return null;
  }
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const [o, d, r] = [backend.typedArrayFromHeap(other), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out)];
  if (wrt === 'filter') native.conv2dBackpropFilter(o, d, r, geometry(info));
  else native.conv2dBackpropInput(d, o, r, geometry(info));
  return out;
}
