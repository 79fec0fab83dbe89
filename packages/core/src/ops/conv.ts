import '../register-gradients.js';
import * as tf from '@tensorflow/tfjs-core';

export type Activation = 'relu' | 'linear';

/**
 * The one capability lookup: what the running backend offers beyond TensorFlow.js's standard
 * kernels, read from the kernel registry under the backend's own name, so it follows from the name
 * alone. A backend declares a capability by registering a marker kernel (never run) under its name:
 *
 * - `ProbunetExactConvBackprop`: its Conv2DBackpropInput and Conv2DBackpropFilter kernels are exact
 *   at every size, so conv2dSame's gradient runs them directly instead of its forward-conv
 *   formulation (which needs transposed, reversed and padded copies of the activations).
 *   @probunet/backends registers it for `wasm-native`, whose kernels its parity tests check.
 *
 * Two capabilities are kernels that run, each one pass over memory in place of a chain of
 * element-wise kernels (core runs the chain where they are absent; both give the same float32
 * values):
 * - `ProbunetReluGradBias` {dy, y} → [dx, db]: dx = dy · step(y), db = Σ dx over all axes but
 *   the last (a relu convolution's gradient before its two backprops);
 * - `ProbunetAdamUpdate` {w, g, m?, v?}, attrs {beta1, beta2, epsilon, stepSize} → [w', m', v', Σu²]
 *   (one Adam step, in {@link Adam}'s order of operations).
 * @probunet/backends registers both for `native` and `wasm-native`.
 *
 * - `ProbunetSoftmaxLogLikelihood` {x [G,S,…,K], t [G,…,K]} → [ll [G,S], lse [G,S,P]] and its
 *   gradient `ProbunetSoftmaxLogLikelihoodGrad` {x, t, lse, dll} → dx: the label log-likelihood of
 *   S draws of logits per image (see `drawLogLikelihoods`) without a log-softmax tensor; registered
 *   for `native` and `wasm-native`, which register the pair together.
 * - `ProbunetRandomNormal` {} with attrs {shape, seed} → standard-normal float32 values, generated
 *   in parallel (see `randomStandardNormal`); registered for `native` and `wasm-native`.
 */
export const CAPABILITY_KERNELS = {
  exactConvBackprop: 'ProbunetExactConvBackprop',
  exactFilterGrad: 'ProbunetExactFilterGrad',
  fusedReluGrad: 'ProbunetReluGradBias',
  fusedAdam: 'ProbunetAdamUpdate',
  fusedSumSquares: 'ProbunetSumSquares',
  fusedSoftmaxLikelihood: 'ProbunetSoftmaxLogLikelihood',
  fusedRandomNormal: 'ProbunetRandomNormal',
} as const;

/** The gradient kernel a backend with `fusedSoftmaxLikelihood` registers beside it. */
export const SOFTMAX_LIKELIHOOD_GRAD_KERNEL = 'ProbunetSoftmaxLogLikelihoodGrad';

export interface BackendCapabilities {
  /** conv2dSame's gradient may call the backend's own backprop kernels. */
  exactConvBackprop: boolean;
  /**
   * Its Conv2DBackpropFilter kernel alone is exact at every size (and faster than the forward-conv
   * formulation): conv2dSame's filter gradient calls it, the input gradient stays a forward conv.
   * @probunet/backends registers it for `webgpu` with its split-K kernel.
   */
  exactFilterGrad: boolean;
  /** The `ProbunetReluGradBias` kernel (see CAPABILITY_KERNELS). */
  fusedReluGrad: boolean;
  /** The `ProbunetAdamUpdate` kernel (see CAPABILITY_KERNELS). */
  fusedAdam: boolean;
  /** The `ProbunetSumSquares` kernel: Σ x² over any number of float32 tensors, one call. */
  fusedSumSquares: boolean;
  /** The `ProbunetSoftmaxLogLikelihood` kernel and its gradient (see CAPABILITY_KERNELS). */
  fusedSoftmaxLikelihood: boolean;
  /** The `ProbunetRandomNormal` kernel (see CAPABILITY_KERNELS). */
  fusedRandomNormal: boolean;
}

/** What `backendName` (default: the active backend) declares; see CAPABILITY_KERNELS. */
export function backendCapabilities(backendName: string = tf.getBackend()): BackendCapabilities {
  const has = (c: keyof typeof CAPABILITY_KERNELS) => tf.getKernel(CAPABILITY_KERNELS[c], backendName) !== undefined;
  return { exactConvBackprop: has('exactConvBackprop'), exactFilterGrad: has('exactFilterGrad'), fusedReluGrad: has('fusedReluGrad'), fusedAdam: has('fusedAdam'), fusedSumSquares: has('fusedSumSquares'), fusedSoftmaxLikelihood: has('fusedSoftmaxLikelihood'), fusedRandomNormal: has('fusedRandomNormal') };
}

/**
 * The kernel config that declares a capability for `backendName` (register it with
 * `tf.registerKernel`). Its kernelFunc throws: a marker is looked up, never run.
 */
export function capabilityMarker(capability: keyof typeof CAPABILITY_KERNELS, backendName: string): tf.KernelConfig {
  return {
    kernelName: CAPABILITY_KERNELS[capability],
    backendName,
    kernelFunc: () => {
      throw new Error(`${CAPABILITY_KERNELS[capability]} is a capability marker of backend ${backendName}, not a kernel to run`);
    },
  };
}

/**
 * 2-D convolution, stride 1, SAME padding, odd square kernel, with bias and activation, whose
 * gradient uses only *forward* convolutions, so it trains on every backend:
 *
 * - wasm registers no `Conv2DBackpropFilter` kernel at all;
 * - webgpu's stock filter gradient loses precision once N·H·W reaches tens of thousands
 *   (see shared/BACKEND-FACTS.md).
 *
 * Input gradient: dx = conv(dy, W rotated 180° with in/out swapped), SAME.
 * Filter gradient: dW[i,j,ci,co] = Σ_{n,h,w} xpad[n,h+i,w+j,ci]·dy[n,h,w,co], which is a VALID
 * convolution of xpad^T [Ci, H+2p, W+2p, N] with dy^T [H, W, N, Co] as the "filter": the reduction
 * over N·H·W runs inside one forward conv kernel.
 *
 * @param x [B,H,W,Ci] float32
 * @param kernel [k,k,Ci,Co] float32, k odd
 * @param bias [Co] float32
 * @returns [B,H,W,Co]
 */
export function conv2dSame(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  activation: Activation = 'linear',
): tf.Tensor4D {
  const k = kernel.shape[0];
  if (k !== kernel.shape[1] || k % 2 !== 1) {
    throw new RangeError(`conv2dSame needs an odd square kernel, got ${kernel.shape[0]}×${kernel.shape[1]}`);
  }
  const forwardFunc = (_backend: unknown, save: tf.GradSaveFunc) => {
    // The fused kernels are called directly: tf.fused.* falls back to separate conv, add and relu
    // ops whenever gradients are being recorded, but this op brings its own gradient.
    const y =
      k === 1
        ? conv1x1Forward(x, kernel, bias, activation)
        : (tf.engine().runKernel(
            'FusedConv2D',
            { x, filter: kernel, bias },
            { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation, leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor4D);
    save(activation === 'relu' ? [x, kernel, y] : [x, kernel]);
    return y;
  };
  // The gradient as one function per input, called by TensorFlow.js only for the inputs the
  // gradient is taken through (tf.customGrad computes all three at once): a network's first
  // convolution, whose input is the image, never computes the image's gradient in training.
  const backwardsFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [xs, ws, ys] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D | undefined];
    const caps = backendCapabilities();
    // Shared by the input and filter gradients. This function runs outside any per-node tidy
    // (TensorFlow.js's backward scope frees what it leaves), so dPre, an activation-sized tensor,
    // is freed as soon as the filter gradient (the last to need it) is done.
    const [dPre, db] = tf.tidy('probunet/conv-grad', () =>
      ys && caps.fusedReluGrad ? (tf.engine().runKernel(CAPABILITY_KERNELS.fusedReluGrad, { dy, y: ys }, {}) as tf.Tensor[]) : reluGradBias(dy, ys),
    ) as [tf.Tensor4D, tf.Tensor1D];
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
    const run = (name: string, inputs: tf.NamedTensorMap, extra: tf.NamedAttrMap) =>
      tf.engine().runKernel(name, inputs, { ...attrs, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    const inputGrad = (): tf.Tensor => {
      if (k === 1) return conv1x1InputGrad(ws, dPre);
      return caps.exactConvBackprop ? run('Conv2DBackpropInput', { dy: dPre, filter: ws }, { inputShape: xs.shape }) : conv2dInputGrad(dPre, ws);
    };
    const filterGrad = (): tf.Tensor => {
      try {
        if (k === 1) return conv1x1FilterGrad(xs, dPre);
        return caps.exactConvBackprop || caps.exactFilterGrad ? run('Conv2DBackpropFilter', { x: xs, dy: dPre }, { filterShape: ws.shape }) : conv2dFilterGrad(xs, dPre, k);
      } finally {
        if (dPre !== dy) dPre.dispose();
      }
    };
    // Called in this order (x, filter, bias), each inside its own tidy.
    return { x: inputGrad, filter: filterGrad, bias: () => db };
  };
  // runKernelFunc with a gradient function of our own is what tf.customGrad itself calls; it is
  // not in the public typings.
  const engine = tf.engine() as unknown as {
    runKernelFunc(p: { forwardFunc: typeof forwardFunc; backwardsFunc: typeof backwardsFunc; inputs: tf.NamedTensorMap }): tf.Tensor;
  };
  return engine.runKernelFunc({ forwardFunc, backwardsFunc, inputs: { x, filter: kernel, bias } }) as tf.Tensor4D;
}

/** dy through the relu whose output is y (none: linear), and the bias gradient: the unfused chain. */
function reluGradBias(dy: tf.Tensor, y: tf.Tensor | undefined): [tf.Tensor, tf.Tensor] {
  const dPre = y ? tf.mul(dy, tf.step(y)) : dy;
  return [dPre, tf.sum(dPre, [0, 1, 2])];
}

/** A 1×1 convolution is a matrix product over the channel axis; this is faster on every backend. */
function conv1x1Forward(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, activation: Activation): tf.Tensor4D {
  const [n, h, wd, ci] = x.shape;
  const co = w.shape[3];
  const y = tf.engine().runKernel(
    '_FusedMatMul',
    { a: tf.reshape(x, [1, n * h * wd, ci]), b: tf.reshape(w, [1, ci, co]), bias: b },
    { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor3D;
  return tf.reshape(y, [n, h, wd, co]);
}

function conv1x1InputGrad(w: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, wd, co] = dy.shape;
  const ci = w.shape[2];
  return tf.reshape(tf.matMul(tf.reshape(dy, [n * h * wd, co]), tf.reshape(w, [ci, co]), false, true), [n, h, wd, ci]);
}

function conv1x1FilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const [n, h, wd, ci] = x.shape;
  const co = dy.shape[3];
  return tf.reshape(tf.matMul(tf.reshape(x, [n * h * wd, ci]), tf.reshape(dy, [n * h * wd, co]), true, false), [1, 1, ci, co]);
}

/** dx = SAME conv of dy with the kernel rotated by 180° and its channel axes swapped. */
export function conv2dInputGrad(dy: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  const rotated = tf.reverse(kernel, [0, 1]);
  const swapped = tf.transpose(rotated, [0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(dy, swapped, 1, 'same');
}

/** dW as one VALID forward conv whose reduction runs over N·H·W (see conv2dSame). */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  const p = (k - 1) / 2;
  const xPadded = tf.pad(x, [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ]);
  const xT = tf.transpose(xPadded, [3, 1, 2, 0]) as tf.Tensor4D; // [Ci, H+2p, W+2p, N]
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H, W, N, Co]
  const out = tf.conv2d(xT, dyT, 1, 'valid'); // [Ci, k, k, Co]
  return tf.transpose(out, [1, 2, 0, 3]) as tf.Tensor4D; // [k, k, Ci, Co]
}
