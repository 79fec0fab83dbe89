import * as tf from '@tensorflow/tfjs-core';
import { capabilityMarker } from '@probunet/core/internal';
import type { NativeKernels } from '@probunet/native';
import { registerNativeBackend } from './native/backend.js';
import { initWasmNative, registerWasmNativeBackend } from './wasm-native/backend.js';
import { installWebgpuAdam } from './webgpu-adam.js';
import { installWebgpuConvGemm } from './webgpu-conv2d.js';
import { installWebgpuDispatchLimitFixes } from './webgpu-dispatch-limits.js';
import { installWebgpuFilterGrad } from './webgpu-filter-grad.js';

export type BackendName = 'node-gpu' | 'node' | 'webgpu' | 'native' | 'wasm-native' | 'wasm' | 'cpu';

export const BACKEND_NAMES: readonly BackendName[] = ['node-gpu', 'node', 'webgpu', 'native', 'wasm-native', 'wasm', 'cpu'];

/** What a provider found when it initialised. */
export interface ProviderInfo {
  /** The TensorFlow.js backend name registered (e.g. 'tensorflow' for tfjs-node). */
  tfBackend: string;
  threads: number | null;
  notes: string[];
}

/**
 * Module loaders by package name, for bundled programs: a bundler cannot follow `import(name)` with a
 * name known only at run time, so a bundle passes the optional packages it carries, e.g.
 * `{ '@tensorflow/tfjs-backend-webgpu': () => import('@tensorflow/tfjs-backend-webgpu') }`.
 * A package not listed is imported by name (from node_modules, as usual).
 */
export type ModuleLoaders = Readonly<Record<string, () => Promise<unknown>>>;

export interface Provider {
  name: BackendName;
  /** The npm package that provides the binding. */
  packageName: string;
  /** Loads the binding and registers its backend; throws with the reason it cannot. */
  load(context?: LoadContext): Promise<ProviderInfo>;
}

/** What initBackend passes each provider. */
export interface LoadContext {
  modules?: ModuleLoaders;
  /** Threads for backends that run their own (wasm-native's native kernels). */
  threads?: number;
  /** Tried by 'auto': a provider that would run but not well here declines, saying why. */
  auto?: boolean;
}

/**
 * The install command for each optional package, at the version this package is tested with (the
 * versions of its peer dependencies: a test holds the two together).
 */
export const INSTALL_SPECS: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs-node-gpu': '@tensorflow/tfjs-node-gpu@4.22.0',
  '@tensorflow/tfjs-node': '@tensorflow/tfjs-node@4.22.0',
  '@tensorflow/tfjs-backend-webgpu': '@tensorflow/tfjs-backend-webgpu@4.22.0',
  webgpu: 'webgpu@0.6.2',
  '@tensorflow/tfjs-backend-wasm': '@tensorflow/tfjs-backend-wasm@4.22.0',
  '@tensorflow/tfjs-backend-cpu': '@tensorflow/tfjs-backend-cpu@4.22.0',
  '@probunet/native': '@probunet/native',
};

/** Imports a package by a name TypeScript does not resolve (optional peer dependencies). */
async function importOptional(name: string, modules: ModuleLoaders = {}): Promise<unknown> {
  try {
    const loader = modules[name];
    return loader ? await loader() : await import(/* @vite-ignore */ name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(String(err))) {
      throw new Error(`${name} is not installed: npm i ${INSTALL_SPECS[name] ?? name}`);
    }
    throw new Error(`${name} failed to load: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** What installDawn found, for every later report in this process. */
let dawnNote: string | null = null;

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * WebGPU in Node: Dawn from the `webgpu` npm package as `navigator.gpu`. Dawn's backend comes from
 * PROBUNET_DAWN_BACKEND (default 'opengl', which on a machine without a GPU runs on Mesa's
 * llvmpipe through EGL; 'vulkan' for a real GPU). The OpenGL backend needs the compatibility
 * feature level and a surfaceless EGL platform. Returns a note naming the adapter.
 */
async function installDawn(modules?: ModuleLoaders): Promise<string> {
  const dawnBackend = process.env.PROBUNET_DAWN_BACKEND ?? 'opengl';
  if (dawnBackend === 'opengl') process.env.EGL_PLATFORM ??= 'surfaceless';
  const mod = (await importOptional('webgpu', modules)) as {
    create(flags: string[]): { requestAdapter(o?: Record<string, unknown>): Promise<{ info?: Record<string, string> } | null> };
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create([`backend=${dawnBackend}`]);
  if (dawnBackend === 'opengl') {
    const request = gpu.requestAdapter.bind(gpu);
    gpu.requestAdapter = (o = {}) => request({ ...o, featureLevel: 'compatibility' });
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      `Dawn (backend=${dawnBackend}) found no adapter: ${dawnBackend === 'opengl' ? "install Mesa's EGL and DRI drivers (scripts/install-mesa.sh)" : 'check the GPU driver'}`,
    );
  }
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
  const software = /llvmpipe|swiftshader|software|Mesa/i.test(description) && !/NVIDIA|AMD|Intel/i.test(info.vendor ?? '');
  return `Dawn backend=${dawnBackend}, adapter: ${description}${software ? ' (software rendering: for correctness, not speed)' : ''}`;
}

/** The micro-kernel native runs, in words (info().isa; PROBUNET_NATIVE_ISA picks another). */
function kernelLabel(native: NativeKernels): string {
  const { isa, avx2, winograd } = native.info();
  const kernel = isa === 'avx512' ? 'AVX-512' : avx2 ? 'AVX2 + FMA' : 'portable C++: this processor lacks AVX2/FMA';
  return winograd ? `${kernel}; 3×3 stride-1 convolutions as Winograd F(2×2, 3×3)` : kernel;
}

/**
 * @probunet/native's kernels for the backend `name` (native or wasm-native); 'auto' declines
 * where the processor lacks AVX2/FMA, saying so.
 */
async function loadNative(name: BackendName, modules: ModuleLoaders | undefined, auto: boolean | undefined): Promise<NativeKernels> {
  if (!isNode) throw new Error('the native kernels run in Node.js only (use wasm or webgpu in a browser)');
  const mod = (await importOptional('@probunet/native', modules)) as { loadNativeKernels(): NativeKernels };
  const native = mod.loadNativeKernels();
  if (auto && !native.info().avx2) {
    throw new Error(`this processor lacks AVX2/FMA, which the native kernels' fast path needs (the portable C++ path is no faster than wasm); request '${name}' by name to use it anyway`);
  }
  return native;
}

export const PROVIDERS: Record<BackendName, Provider> = {
  'node-gpu': {
    name: 'node-gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    async load({ modules } = {}) {
      if (!isNode) throw new Error('tfjs-node-gpu runs in Node.js only');
      await importOptional('@tensorflow/tfjs-node-gpu', modules);
      await tf.setBackend('tensorflow');
      // tfjs-node-gpu falls back to the CPU silently when CUDA or cuDNN is missing; its backend
      // says which device it got.
      const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
      if (onGpu === false) {
        throw new Error('@tensorflow/tfjs-node-gpu loaded but runs on the CPU: CUDA 11.2 / cuDNN 8.1 were not found (use the node backend, or install them)');
      }
      return { tfBackend: 'tensorflow', threads: null, notes: onGpu ? ['running on the GPU'] : ['could not tell whether the GPU is used'] };
    },
  },
  node: {
    name: 'node',
    packageName: '@tensorflow/tfjs-node',
    async load({ modules } = {}) {
      if (!isNode) throw new Error('tfjs-node runs in Node.js only');
      await importOptional('@tensorflow/tfjs-node', modules);
      return { tfBackend: 'tensorflow', threads: null, notes: [] };
    },
  },
  webgpu: {
    name: 'webgpu',
    packageName: '@tensorflow/tfjs-backend-webgpu',
    async load({ modules } = {}) {
      const notes: string[] = [];
      const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
      if (!nav?.gpu) {
        if (!isNode) throw new Error('this browser exposes no WebGPU (navigator.gpu)');
        dawnNote = await installDawn(modules);
      }
      // Every report names the adapter, not only the first (Dawn is installed once per process).
      if (dawnNote) notes.push(dawnNote);
      await importOptional('@tensorflow/tfjs-backend-webgpu', modules);
      installWebgpuDispatchLimitFixes();
      installWebgpuFilterGrad(capabilityMarker('exactFilterGrad', 'webgpu'));
      // The GEMM convolutions (forward with bias + relu, input gradient) are installed and on: they
      // pass parity on Dawn's software adapter in Node and the web app's tests in headless
      // Chromium (SwiftShader) since their 1-/3-channel A load is a loop (cac7d10), and per layer
      // they are not slower than the stock kernels on llvmpipe (docs/benchmarks.md, 2026-12-05);
      // no GPU has timed them yet. setWebgpuConvKernels('stock') is the way back.
      installWebgpuConvGemm();
      // Core's Adam as four programs per weight (src/webgpu-adam.ts), not its element-wise chain.
      installWebgpuAdam();
      return { tfBackend: 'webgpu', threads: null, notes };
    },
  },
  native: {
    name: 'native',
    packageName: '@probunet/native',
    async load({ modules, threads: requested, auto } = {}) {
      const native = await loadNative('native', modules, auto);
      const cpu = (await importOptional('@tensorflow/tfjs-backend-cpu', modules)) as { MathBackendCPU?: unknown };
      registerNativeBackend(native, cpu.MathBackendCPU);
      if (requested !== undefined) native.setThreads(requested);
      const { threads } = native.info();
      return {
        tfBackend: 'native',
        threads,
        notes: [
          `tensors are JavaScript arrays (no 4 GiB heap); convolutions, matrix products and element-wise kernels run in @probunet/native (${kernelLabel(native)}, ${threads} thread${threads === 1 ? '' : 's'}; initBackend(name, { threads }) or PROBUNET_NATIVE_THREADS sets the count); every other kernel is the cpu backend's`,
        ],
      };
    },
  },
  'wasm-native': {
    name: 'wasm-native',
    packageName: '@probunet/native',
    async load({ modules, threads: requested, auto } = {}) {
      const native = await loadNative('wasm-native', modules, auto);
      await importOptional('@tensorflow/tfjs-backend-wasm', modules);
      registerWasmNativeBackend(native);
      await initWasmNative();
      if (requested !== undefined) native.setThreads(requested);
      const { threads } = native.info();
      return {
        tfBackend: 'wasm-native',
        threads,
        notes: [
          `convolutions and matrix products run in @probunet/native (${kernelLabel(native)}, ${threads} thread${threads === 1 ? '' : 's'}; initBackend(name, { threads }) or PROBUNET_NATIVE_THREADS sets the count); every other kernel is wasm's`,
        ],
      };
    },
  },
  wasm: {
    name: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    async load({ modules } = {}) {
      await importOptional('@tensorflow/tfjs-backend-wasm', modules);
      const notes: string[] = [];
      // In Node the wasm backend runs single-threaded (its worker cannot start from a blob URL).
      return { tfBackend: 'wasm', threads: isNode ? 1 : null, notes };
    },
  },
  cpu: {
    name: 'cpu',
    packageName: '@tensorflow/tfjs-backend-cpu',
    async load({ modules } = {}) {
      await importOptional('@tensorflow/tfjs-backend-cpu', modules);
      return { tfBackend: 'cpu', threads: 1, notes: ['pure JavaScript: fine for tiny models and tests, far too slow to train real ones'] };
    },
  },
};

/** Float precision the active backend computes in (32, or 16 on GPUs without float32 textures). */
export function activeFloatPrecision(): 16 | 32 {
  return tf.backend().floatPrecision() === 16 ? 16 : 32;
}
