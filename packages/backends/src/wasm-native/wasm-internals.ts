import type { KernelHost } from '../native-kernels/host.js';

/**
 * The only place that knows tfjs-backend-wasm's internals (4.22). The native kernels read and write
 * the wasm heap in place, which its public API does not offer, so they use four members of its
 * BackendWasm class:
 * - `dataIdMap.get(dataId)` → `{ id, memoryOffset, shape }`: where a tensor lives on the heap;
 * - `makeOutput(shape, dtype)`: allocates an output tensor on the heap (as wasm's own kernels do);
 * - `typedArrayFromHeap(info)`: a Float32Array view of a tensor's heap bytes;
 * - `incRef(dataId)`: shares a tensor's data (Identity without a copy).
 * `assertWasmInternals` checks them on a live backend; test/wasm-internals.test.ts fails loudly when
 * a tfjs upgrade changes them.
 */
export interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
}

export interface WasmBackendLike extends KernelHost {
  dataIdMap: { get(dataId: object): WasmTensorData };
}

/** Throws naming what is missing when `backend` lacks the internals the native kernels use. */
export function assertWasmInternals(backend: unknown): asserts backend is WasmBackendLike {
  const b = backend as Partial<Record<string, unknown>> | null;
  const missing = ['incRef', 'makeOutput', 'typedArrayFromHeap'].filter((m) => typeof b?.[m] !== 'function');
  const map = b?.dataIdMap as { get?: unknown } | undefined;
  if (typeof map?.get !== 'function') missing.push('dataIdMap.get');
  if (missing.length) {
    throw new Error(
      `the wasm backend lacks ${missing.join(', ')}: @probunet/backends' native kernels were written against @tensorflow/tfjs-backend-wasm 4.22 (see wasm-native/wasm-internals.ts)`,
    );
  }
}
