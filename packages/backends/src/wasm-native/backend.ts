import * as tf from '@tensorflow/tfjs-core';
import { capabilityMarker } from '@probunet/core/internal';
import type { NativeKernels } from '@probunet/native';
import { nativeFirst, type KernelFunc } from '../native-kernels/host.js';
import { identity } from '../native-kernels/layout.js';
import { COMPUTE_KERNELS, FUSED, type NativeKernelImpl } from '../native-kernels/table.js';
import { assertWasmInternals } from './wasm-internals.js';

/**
 * The `wasm-native` backend: TensorFlow.js's wasm backend with some kernels run by
 * @probunet/native (our own C++, compiled at install, multi-threaded, AVX2 + FMA where the
 * processor has them) on the wasm heap's memory in place, no copies:
 * - convolutions and matrix products (native-kernels/: conv.ts, conv-backprop.ts, matmul.ts): Conv2D, FusedConv2D,
 *   BatchMatMul, _FusedMatMul, Conv2DBackpropInput, and the Conv2DBackpropFilter wasm does not have;
 * - three memory-bound kernels wasm runs slowly on a U-Net's layouts (reductions.ts, layout.ts): Sum
 *   over leading axes (every bias gradient), SplitV along the channel axis, AvgPoolGrad without
 *   padding; and Identity, which shares its input's data instead of copying it.
 * Every other kernel is wasm's own. It is a backend of its own name: `tf.getBackend()` says
 * 'wasm-native', and the 'wasm' backend stays stock. Both names share one wasm instance (one heap):
 * tfjs-backend-wasm's kernels keep module-level handles into the wasm module they were set up
 * with, so a second instance would corrupt the first. A case the native path does not cover
 * (another data format or dtype, a prelu activation, a broadcast it cannot express) runs wasm's
 * own kernel. It declares the `exactConvBackprop` capability (core's backendCapabilities()).
 */
export const WASM_NATIVE = 'wasm-native';

const REPLACED = ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Sum', 'SplitV', 'AvgPoolGrad', 'Identity'] as const;
/** Kernels wasm lacks altogether (training a stock tf.conv2d on wasm needs the first). */
const ADDED = ['Conv2DBackpropFilter'] as const;

let installedWith: NativeKernels | null = null;

/**
 * Registers the 'wasm-native' backend: wasm's backend instance under a second name, every wasm
 * kernel registered for it too, the kernels listed above replaced by native-first versions, and the
 * exactConvBackprop capability marker. The wasm backend package must already be imported (its
 * kernels registered). Idempotent; a later call swaps in another NativeKernels instance.
 */
export function registerWasmNativeBackend(native: NativeKernels): void {
  if (installedWith) {
    installedWith = native;
    return;
  }
  const wasmKernels = tf.getKernelsForBackend('wasm');
  if (wasmKernels.length === 0) throw new Error('the wasm backend registers no kernels: import @tensorflow/tfjs-backend-wasm first');
  for (const name of REPLACED) {
    if (!wasmKernels.some((k) => k.kernelName === name)) throw new Error(`the wasm backend registers no ${name} kernel (tfjs-backend-wasm changed?)`);
  }
  installedWith = native;
  // Synchronous: initWasmNative() has initialised wasm first (its factory is async).
  tf.registerBackend(WASM_NATIVE, () => {
    const shared = tf.engine().findBackend('wasm');
    if (!shared) throw new Error('the wasm backend is not initialised: call initWasmNative() (initBackend does)');
    assertWasmInternals(shared);
    return shared;
  });
  const replaced = new Set<string>([...REPLACED, ...ADDED]);
  for (const k of wasmKernels) {
    if (!replaced.has(k.kernelName)) tf.registerKernel({ ...k, backendName: WASM_NATIVE });
  }
  for (const name of [...REPLACED, ...ADDED]) {
    const original = wasmKernels.find((k) => k.kernelName === name);
    const wasmKernel = original?.kernelFunc as unknown as KernelFunc | undefined;
    const impl: NativeKernelImpl = name === 'Identity' ? (_native, args) => identity(args) : COMPUTE_KERNELS[name]!;
    const run = nativeFirst(name, (args) => impl(installedWith!, args), wasmKernel, WASM_NATIVE);
    tf.registerKernel({ ...(original ?? {}), kernelName: name, backendName: WASM_NATIVE, kernelFunc: run as unknown as tf.KernelFunc });
  }
  // Core's fused training kernels (no wasm counterpart: core runs its own chain where they are absent).
  for (const [name, impl] of Object.entries(FUSED)) {
    tf.registerKernel({ kernelName: name, backendName: WASM_NATIVE, kernelFunc: nativeFirst(name, (args) => impl(installedWith!, args), undefined, WASM_NATIVE) as unknown as tf.KernelFunc });
  }
  tf.registerKernel(capabilityMarker('exactConvBackprop', WASM_NATIVE));
}

/** Initialises the wasm backend that wasm-native shares (outside any other backend's initialisation). */
export async function initWasmNative(): Promise<void> {
  const engine = tf.engine() as unknown as { initializeBackend(name: string): { success: boolean | Promise<boolean> } };
  if (tf.engine().findBackend('wasm')) return;
  if (!(await engine.initializeBackend('wasm').success)) throw new Error('the wasm backend failed to initialise');
}
