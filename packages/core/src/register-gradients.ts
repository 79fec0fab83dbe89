// @tensorflow/tfjs-core registers no gradient functions by itself (the `@tensorflow/tfjs` union
// package does it). Training needs them, so every module that differentiates imports this one.
// It registers gradients only; it never selects a backend.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';

// tfjs-backend-cpu 4.22's ResizeBilinearGrad kernel fills its output in [B, H, W, C] order but
// labels it [B, W, H, C], so every non-square image fails in the backward pass ("Error in gradient
// for op ResizeBilinear"). The values are right; only the shape is swapped. This gradient gives
// the kernel's output the input's shape, a no-op wherever the kernel is right (wasm, webgpu).
tf.registerGradient({
  kernelName: tf.ResizeBilinear,
  inputsToSave: ['images'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [images] = saved as [tf.Tensor4D];
    return {
      images: () => {
        const dx = tf.engine().runKernel(tf.ResizeBilinearGrad, { dy: dy as tf.Tensor, images }, attrs) as tf.Tensor4D;
        return tf.util.arraysEqual(dx.shape, images.shape) ? dx : tf.reshape(dx, images.shape);
      },
    };
  },
});
