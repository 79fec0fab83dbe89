import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/index.js';
import { assertWasmInternals } from '../src/wasm-native/wasm-internals.js';

// wasm-native reads tfjs-backend-wasm's heap through four members of its BackendWasm class
// (src/wasm-native/wasm-internals.ts). A tfjs upgrade that renames or reshapes them must fail here,
// loudly, rather than corrupt memory.

describe('the tfjs-backend-wasm internals wasm-native relies on', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('exist on the live wasm backend and behave as the native kernels assume', async () => {
    await initBackend('wasm');
    const backend = tf.backend();
    assertWasmInternals(backend);
    const x = tf.tensor1d([1.5, -2, 3]);
    // dataIdMap → where the tensor lives; typedArrayFromHeap → a view of exactly its values.
    const entry = backend.dataIdMap.get(x.dataId);
    expect(entry.shape).toEqual([3]);
    expect(typeof entry.memoryOffset).toBe('number');
    expect(Array.from(backend.typedArrayFromHeap(x))).toEqual([1.5, -2, 3]);
    // makeOutput allocates a tensor on the heap that tfjs then owns.
    const out = backend.makeOutput([2], 'float32');
    backend.typedArrayFromHeap(out).set([7, 8]);
    const t = tf.engine().makeTensorFromTensorInfo(out);
    expect(Array.from(await t.data())).toEqual([7, 8]);
    tf.dispose([x, t]);
  });

  it('names what is missing when they are not there', () => {
    expect(() => assertWasmInternals({ incRef() {}, makeOutput() {} })).toThrow(/lacks typedArrayFromHeap, dataIdMap\.get: .*tfjs-backend-wasm 4\.22/);
  });
});
