import * as tf from '@tensorflow/tfjs-core';
import { tolerance } from './tolerance.js';

export interface CloseOptions {
  /** Default: tolerance('kernel') on the active backend. */
  atol?: number;
  /** Default: tolerance('kernel') on the active backend. */
  rtol?: number;
  /** Prefix of the failure message. */
  what?: string;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise; on failure the message names
 * the worst index, both values and the largest absolute difference.
 */
export function expectArrayClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions = {}): void {
  const { atol = tolerance('kernel'), rtol = tolerance('kernel'), what = 'values' } = options;
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} differs from expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  let maxDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const diff = Math.abs(a - e);
    if (Number.isNaN(a) !== Number.isNaN(e)) {
      worst = i;
      worstExcess = Infinity;
      break;
    }
    if (diff > maxDiff) maxDiff = diff;
    const excess = diff - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: not close at flat index ${worst}: actual ${actual[worst]}, expected ${expected[worst]} ` +
        `(max |diff| ${maxDiff.toExponential(3)}, atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** Tensor version of `expectArrayClose`; also checks shapes. */
export function expectTensorClose(actual: tf.Tensor, expected: tf.Tensor | ArrayLike<number>, options: CloseOptions = {}): void {
  if (expected instanceof tf.Tensor && !tf.util.arraysEqual(actual.shape, expected.shape)) {
    throw new Error(`${options.what ?? 'tensor'}: shape [${actual.shape}] differs from expected [${expected.shape}]`);
  }
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  expectArrayClose(actual.dataSync(), e, options);
}

/**
 * Runs `fn` once to warm up (kernels may cache tensors on first use), then `repeats` more times,
 * and fails if the live tensor count grew. Returns the growth (0 on success).
 */
export async function expectNoLeakedTensors(fn: () => unknown, options: { repeats?: number; what?: string } = {}): Promise<void> {
  const { repeats = 3, what = 'the call' } = options;
  await fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`${what} leaked tensors: ${before} live before ${repeats} repeated calls, ${after} after (+${(after - before) / repeats} per call)`);
  }
}

/** Relative L2 error ‖a − b‖ / ‖b‖ of two arrays. */
export function relativeL2Error(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
