import * as tf from '@tensorflow/tfjs-core';
import { backendCapabilities, CAPABILITY_KERNELS, SOFTMAX_LIKELIHOOD_GRAD_KERNEL } from './conv.js';
import { sumOfSquares } from './sum.js';

/**
 * One-hot encoding with ignore pixels as all-zero rows: [B,H,W] int32 → [B,H,W,K] float32.
 */
export function oneHotMasked(labels: tf.Tensor3D, numClasses: number, ignoreLabel: number): tf.Tensor4D {
  // An index outside [0, K) one-hot encodes as all zeros on every backend, so an ignore label
  // outside the classes (255, the default, or -1) needs no mask: one kernel instead of six. On
  // wasm and wasm-native int32, then a cast: tfjs-backend-wasm 4.22's OneHot writes integer bit
  // patterns into a float32 output.
  if (ignoreLabel < 0 || ignoreLabel >= numClasses) {
    if (!tf.getBackend().startsWith('wasm')) return tf.oneHot(labels, numClasses, 1, 0, 'float32') as tf.Tensor4D;
    return tf.tidy(() => tf.cast(tf.oneHot(labels, numClasses), 'float32') as tf.Tensor4D);
  }
  return tf.tidy(() => {
    const valid = tf.notEqual(labels, ignoreLabel);
    const safe = tf.where(valid, labels, tf.zerosLike(labels));
    const oneHot = tf.oneHot(safe, numClasses);
    return tf.mul(oneHot, tf.expandDims(tf.cast(valid, 'float32'), 3)) as tf.Tensor4D;
  });
}

/**
 * log p(y | x, z) of a label map under per-pixel categorical logits, summed over the valid pixels
 * of each image: Σ_pixels log softmax(logits)[y]. This is minus the per-image cross-entropy.
 * @param logits [B,H,W,K]
 * @param oneHot [B,H,W,K] from `oneHotMasked` (ignore pixels all zero)
 * @returns [B]
 */
export function labelLogLikelihood(logits: tf.Tensor4D, oneHot: tf.Tensor4D): tf.Tensor1D {
  if (!backendCapabilities().fusedSoftmaxLikelihood) return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), [1, 2, 3]) as tf.Tensor1D);
  return tf.tidy(() => tf.reshape(drawLogLikelihoods(tf.expandDims(logits, 1), oneHot), [logits.shape[0]]) as tf.Tensor1D);
}

/**
 * `labelLogLikelihood` for S draws of logits per image against that image's one label map (a
 * Monte-Carlo likelihood's inner term): ll[g, s] = Σ_pixels log softmax(logits[g, s])[y].
 * Where the backend has the `fusedSoftmaxLikelihood` capability (native, wasm-native), one kernel
 * each way that never writes a log-softmax tensor (the chain's log-softmax, product and sum are
 * eight kernels over [G,S,…,K] forward and more backward); elsewhere that chain. Both agree to
 * float32 rounding (tests).
 * @param logits [G,S,…,K] float32
 * @param oneHot [G,…,K] from `oneHotMasked` (ignore pixels all zero)
 * @returns [G,S]
 */
export function drawLogLikelihoods(logits: tf.Tensor, oneHot: tf.Tensor): tf.Tensor2D {
  const [g, s] = logits.shape;
  if (logits.rank < 3 || oneHot.rank !== logits.rank - 1 || oneHot.shape[0] !== g || !tf.util.arraysEqual(logits.shape.slice(2), oneHot.shape.slice(1))) {
    throw new RangeError(`drawLogLikelihoods needs logits [G,S,…,K] and a one-hot target [G,…,K] of the same image shape, got logits [${logits.shape}] and target [${oneHot.shape}]`);
  }
  if (!backendCapabilities().fusedSoftmaxLikelihood || logits.dtype !== 'float32' || oneHot.dtype !== 'float32') {
    return tf.tidy(() => {
      const k = logits.shape.at(-1)!;
      const flat = tf.reshape(tf.logSoftmax(tf.reshape(logits, [-1, k])), logits.shape);
      return tf.sum(tf.reshape(tf.mul(flat, tf.expandDims(oneHot, 1)), [g!, s!, -1]), 2) as tf.Tensor2D;
    });
  }
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [ll, lse] = tf.engine().runKernel(CAPABILITY_KERNELS.fusedSoftmaxLikelihood, { x, t: oneHot }, {}) as tf.Tensor[];
    save([x, oneHot, lse!]);
    return {
      value: ll!,
      gradFunc: (dll: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ts, lses] = saved;
        return [tf.engine().runKernel(SOFTMAX_LIKELIHOOD_GRAD_KERNEL, { x: xs!, t: ts!, lse: lses!, dll }, {}) as tf.Tensor];
      },
    };
  }) as unknown as (...args: Array<tf.Tensor | tf.GradSaveFunc>) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] });
  // Named scope: profiles report the kernels, not the op again (see halfSquaredNorm).
  return tf.tidy('probunet/softmax-likelihood', () => op(logits)) as tf.Tensor2D;
}

/**
 * Σ ½‖w‖² over the given kernels (the L2 term is weightDecay times this). Its gradient is w·dy per
 * kernel, one product each: differentiating the sum of squares op by op would build an array of
 * ones the size of every kernel and multiply twice, every step.
 */
export function halfSquaredNorm(kernels: readonly tf.Tensor[]): tf.Scalar {
  if (kernels.length === 0) return tf.scalar(0);
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ks = args as tf.Tensor[];
    save(ks);
    return {
      value: tf.tidy(() => tf.mul(sumOfSquares(ks), 0.5) as tf.Scalar),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((k) => tf.mul(k, dy)),
    };
  }) as unknown as (...args: Array<tf.Tensor | tf.GradSaveFunc>) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] });
  // A named scope: the op's kernel takes the scope's name (profiles skip probunet/… scopes, whose
  // time their inner kernels report again).
  return tf.tidy('probunet/weight-decay', () => op(...kernels)) as tf.Scalar;
}
