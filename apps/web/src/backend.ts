import * as tf from '@tensorflow/tfjs-core';
import { BackendError, initBackend, type BackendName, type ModuleLoaders } from '@probunet/backends';
/* eslint-disable no-restricted-imports -- the app is a bundle: it hands @probunet/backends the backend modules it carries (see ModuleLoaders) */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The backends a browser can run, in the order 'auto' tries them. */
export const BROWSER_BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];
export type BackendChoice = BrowserBackend | 'auto';

let wasmPathsSet = false;

/** The backend packages this bundle carries, each in its own chunk, loaded only when tried. */
const MODULES: ModuleLoaders = {
  '@tensorflow/tfjs-backend-webgpu': () => import('@tensorflow/tfjs-backend-webgpu'),
  '@tensorflow/tfjs-backend-wasm': async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Served by this site (no CDN): the three files the wasm backend picks from (plain, SIMD, threads).
    if (!wasmPathsSet) {
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmPlain,
        'tfjs-backend-wasm-simd.wasm': wasmSimd,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
      });
      wasmPathsSet = true;
    }
    return wasm;
  },
  '@tensorflow/tfjs-backend-cpu': () => import('@tensorflow/tfjs-backend-cpu'),
};
/* eslint-enable no-restricted-imports */

export interface BackendAttempt {
  name: BrowserBackend;
  status: 'selected' | 'failed' | 'not-tried';
  reason?: string;
}

export interface BrowserBackendState {
  /** What runs: TensorFlow.js's name for it (tf.getBackend()). */
  active: BrowserBackend;
  choice: BackendChoice;
  /** The WebGPU adapter, when webgpu runs (vendor / architecture). */
  adapter?: string;
  attempts: BackendAttempt[];
  notes: string[];
}

/** Asks navigator.gpu for an adapter: the one reason webgpu cannot run that tfjs reports only as "false". */
async function webgpuAdapter(): Promise<string> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
  if (!gpu) throw new Error('this browser exposes no WebGPU (navigator.gpu is missing: an old browser, or WebGPU disabled)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu gave no adapter (no usable GPU, or WebGPU blocked for this GPU)');
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

/**
 * Starts a backend, explicitly: 'auto' tries webgpu, then wasm, then cpu and keeps the first that
 * works; a name starts that one or fails. Every backend not running gets its reason.
 */
export async function startBackend(choice: BackendChoice): Promise<BrowserBackendState> {
  const order: BrowserBackend[] = choice === 'auto' ? [...BROWSER_BACKENDS] : [choice];
  const attempts: BackendAttempt[] = BROWSER_BACKENDS.map((name) => ({
    name,
    status: 'not-tried',
    ...(order.includes(name) ? {} : { reason: `not requested (you chose ${choice})` }),
  }));
  const entry = (name: BrowserBackend) => attempts.find((a) => a.name === name)!;
  for (const name of order) {
    const a = entry(name);
    try {
      const adapter = name === 'webgpu' ? await webgpuAdapter() : undefined;
      const report = await initBackend(name as BackendName, { modules: MODULES });
      a.status = 'selected';
      for (const later of order.slice(order.indexOf(name) + 1)) entry(later).reason = `${name} was selected first`;
      return { active: tf.getBackend() as BrowserBackend, choice, ...(adapter ? { adapter } : {}), attempts, notes: report.notes };
    } catch (err) {
      a.status = 'failed';
      a.reason = err instanceof BackendError ? (err.candidates.find((c) => c.name === name)?.reason ?? err.message) : (err as Error).message;
    }
  }
  const why = attempts.map((x) => `${x.name}: ${x.reason ?? x.status}`).join('; ');
  throw new Error(choice === 'auto' ? `no backend could start (${why})` : `backend ${choice} could not start (${why}); choose another backend`);
}
