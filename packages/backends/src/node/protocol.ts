import type { ProbUNetModelConfig } from '@probunet/core';
import type { BackendName } from '../providers.js';

/** Messages between the data-parallel trainer and its workers. */
export type ToWorker =
  | { type: 'init'; config: ProbUNetModelConfig; backend: BackendName; nativeThreads: number; weightDecay: number; names: string[] }
  | {
      type: 'step';
      /** All parameters, flat, in `names` order (shared, read-only for workers). */
      weights: SharedArrayBuffer;
      images: { data: Float32Array; shape: [number, number, number, number] };
      labels: { data: Int32Array; shape: [number, number, number] };
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
