import * as tf from '@tensorflow/tfjs-core';

/**
 * What the native kernels need from the backend whose tensors they read and write: both backends
 * that run @probunet/native kernels (wasm-native, on the wasm heap; native, on JavaScript
 * ArrayBuffers) provide these three members.
 * - `makeOutput(shape, dtype)`: allocates an output tensor;
 * - `typedArrayFromHeap(info)`: a Float32Array over a tensor's bytes (a view, never a copy, for
 *   outputs: the kernel writes through it);
 * - `incRef(dataId)`: shares a tensor's data (Identity without a copy).
 */
export interface KernelHost extends tf.KernelBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: KernelHost; attrs?: tf.NamedAttrMap };
export type KernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** True when every given tensor is float32 (absent ones count as such). */
export function isF32(...ts: Array<tf.TensorInfo | undefined>): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

const counters = { native: 0, fallback: 0, nativeMs: 0 };

/**
 * Kernel calls run natively and passed back to the host backend's own kernels since installation
 * (wasm-native and native together), and the wall time spent in the native ones (for tests,
 * benchmarks and reports).
 */
export function nativeKernelCounters(): { native: number; fallback: number; nativeMs: number } {
  return { ...counters };
}

/**
 * A kernel that tries `native(args)` first and calls the host backend's own `fallback` when that
 * returns null (a case the native path does not cover), counting both.
 */
export function nativeFirst(name: string, native: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null, fallback: KernelFunc | undefined, backendName: string): KernelFunc {
  return (args) => {
    const t0 = performance.now();
    const r = native(args);
    if (r) {
      counters.native++;
      counters.nativeMs += performance.now() - t0;
      return r;
    }
    counters.fallback++;
    if (!fallback) throw new Error(`${backendName} has no ${name} kernel for these arguments (its native one covers NHWC float32)`);
    return fallback(args);
  };
}
