import type * as tf from '@tensorflow/tfjs-core';
import type { NativeKernels } from '@probunet/native';
import { conv } from './conv.js';
import { conv2dBackprop } from './conv-backprop.js';
import { FUSED_KERNELS } from './fused.js';
import { addN, binary, BINARY_KERNELS, unary, UNARY_KERNELS } from './elementwise.js';
import type { KernelArgs } from './host.js';
import { avgPool, avgPoolGrad, concat, oneHot, resizeBilinear, resizeBilinearGrad, splitV } from './layout.js';
import { matMul } from './matmul.js';
import { maxContiguous, meanContiguous, sum, sumContiguous } from './reductions.js';

/** A native kernel: its result, or null for a case it does not cover (the host's kernel runs). */
export type NativeKernelImpl = (native: NativeKernels, args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

/** Convolutions, matrix products, and the memory-bound kernels a U-Net's layouts make slow. */
export const COMPUTE_KERNELS: Readonly<Record<string, NativeKernelImpl>> = {
  Conv2D: (n, a) => conv(n, a, false),
  FusedConv2D: (n, a) => conv(n, a, true),
  BatchMatMul: (n, a) => matMul(n, a, false),
  _FusedMatMul: (n, a) => matMul(n, a, true),
  Conv2DBackpropFilter: (n, a) => conv2dBackprop(n, a, 'filter'),
  Conv2DBackpropInput: (n, a) => conv2dBackprop(n, a, 'input'),
  Sum: sum,
  SplitV: splitV,
  AvgPoolGrad: avgPoolGrad,
};

/**
 * The native backend's further kernels: sums, means and maxima over any contiguous run of axes (in place
 * of Sum above), average pooling, concatenation, bilinear resizing and its gradient, and a float32
 * one-hot into pooled arrays. (On wasm-native, wasm's own do these well.)
 */
export const LAYOUT_KERNELS: Readonly<Record<string, NativeKernelImpl>> = {
  Sum: sumContiguous,
  Mean: meanContiguous,
  Max: maxContiguous,
  AvgPool: avgPool,
  Concat: concat,
  ResizeBilinear: resizeBilinear,
  ResizeBilinearGrad: resizeBilinearGrad,
  OneHot: oneHot,
};

/** Element-wise kernels on the thread pool. */
export const ELEMENTWISE_KERNELS: Readonly<Record<string, NativeKernelImpl>> = {
  ...Object.fromEntries(Object.entries(BINARY_KERNELS).map(([name, op]) => [name, (n: NativeKernels, a: KernelArgs) => binary(n, op, a)])),
  ...Object.fromEntries(Object.entries(UNARY_KERNELS).map(([name, op]) => [name, (n: NativeKernels, a: KernelArgs) => unary(n, op, a)])),
  AddN: addN,
};

/** One-pass replacements for chains of core's training step (no TensorFlow.js counterpart). */
export const FUSED: Readonly<Record<string, NativeKernelImpl>> = FUSED_KERNELS;
