import type { ModelConfig } from '@probunet/core';
import type { BackendName } from '../providers.js';

/** A registry plugin a worker imports: `(await import(module))[export]`. */
export interface PluginModule {
  readonly module: string;
  readonly export: string;
}

/** Messages between createWorkerGradients and its workers. */
export type ToWorker =
  | { type: 'init'; config: ModelConfig; plugins: PluginModule[]; backend: BackendName; nativeThreads: number; weightDecay: number; names: string[] }
  | {
      type: 'step';
      /** All parameters, flat, in `names` order (shared, read-only for workers). */
      weights: SharedArrayBuffer;
      images: { data: Float32Array; shape: [number, number, number, number] };
      /** [B,H,W], or [B,A,H,W] for a model that picks graders itself. */
      labels: { data: Int32Array; shape: number[] };
      seed: number;
    };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'grads'; grads: Float32Array; loss: number; terms: Record<string, number>; halfSquaredNorm: number }
  | { type: 'error'; message: string };

/** The posterior-noise seed of shard `i` of a step whose seed is `seed`. */
export function shardSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, i + 1) + 0x9e3779b9 * (i + 1)) & 0x7fffffff;
}
