import * as tf from '@tensorflow/tfjs-core';

/**
 * Central finite-difference gradient of a scalar function of one tensor, in float64 arithmetic on
 * the JS side: ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h, for the listed flat indices (default all).
 */
export function numericalGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, options: { h?: number; indices?: number[] } = {}): number[] {
  const h = options.h ?? 1e-2;
  const base = Float32Array.from(x.dataSync());
  const indices = options.indices ?? Array.from(base, (_, i) => i);
  const evaluate = (values: Float32Array): number =>
    tf.tidy(() => f(tf.tensor(values, x.shape, 'float32')).dataSync()[0]!);
  return indices.map((i) => {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i] = base[i]! + h;
    minus[i] = base[i]! - h;
    return (evaluate(plus) - evaluate(minus)) / (2 * h);
  });
}
