import * as tf from '@tensorflow/tfjs-core';

/**
 * How far two computations of the same thing may differ, relative to its size, on a backend that
 * computes in `floatPrecision()` bits: the one place tests take their tolerances from.
 *
 * - `kernel`: one kernel against another implementation of the same kernel (sums in another order).
 * - `forward`: a whole forward pass or loss (many kernels, long reductions).
 * - `gradient`: a whole backward pass (chains of reductions, the most rounding).
 *
 * 32-bit: 1e-5 / 1e-4 / 1e-3 (what float32 sums over our layer sizes land well inside); 16-bit
 * (GPUs without float32 textures): 1e-2 / 3e-2 / 1e-1.
 */
export type ToleranceKind = 'kernel' | 'forward' | 'gradient';

const BY_PRECISION: Record<16 | 32, Record<ToleranceKind, number>> = {
  32: { kernel: 1e-5, forward: 1e-4, gradient: 1e-3 },
  16: { kernel: 1e-2, forward: 3e-2, gradient: 1e-1 },
};

/** The relative tolerance for `kind` on the active backend (or the given float precision). */
export function tolerance(kind: ToleranceKind, precision: 16 | 32 = tf.backend().floatPrecision() === 16 ? 16 : 32): number {
  return BY_PRECISION[precision][kind];
}
