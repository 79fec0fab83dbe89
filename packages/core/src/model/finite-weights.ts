import * as tf from '@tensorflow/tfjs-core';
import type { Parameter } from '../spec/parameter.js';
import { NonFiniteWeightsError } from '../errors.js';
import { canReadSync } from '../spec/input.js';

/**
 * Whether a model's weights are finite, checked before inference: NaN logits would otherwise give
 * all-background maps (argMax picks class 0) and NaN scores, silently. One Σw·0 per parameter
 * (NaN exactly when the parameter holds NaN or Inf) read back once, then cached until a parameter
 * is assigned again: `assign` gives a variable a new data id, so comparing data ids is free.
 */
export class FiniteWeightsCheck {
  /** The parameters' data ids when their values were last found finite. */
  private verified: readonly object[] = [];

  constructor(private readonly parameters: () => Parameter[]) {}

  /** Throws NonFiniteWeightsError; skipped where the backend cannot read synchronously (webgpu in Node). */
  assert(): void {
    if (!canReadSync()) return;
    const pending = this.pending();
    if (!pending) return;
    const flags = this.flags(pending.params);
    try {
      this.conclude(flags.dataSync(), pending);
    } finally {
      flags.dispose();
    }
  }

  /** Throws NonFiniteWeightsError; works on every backend. */
  async assertAsync(): Promise<void> {
    const pending = this.pending();
    if (!pending) return;
    const flags = this.flags(pending.params);
    try {
      this.conclude(await flags.data(), pending);
    } finally {
      flags.dispose();
    }
  }

  /** The parameters to check and their data ids, or null when they were already found finite. */
  private pending(): { params: Parameter[]; ids: object[] } | null {
    const params = this.parameters();
    const ids = params.map((p) => p.variable.dataId);
    const same = ids.length === this.verified.length && ids.every((id, i) => id === this.verified[i]);
    return same ? null : { params, ids };
  }

  private flags(params: Parameter[]): tf.Tensor1D {
    return tf.tidy('probunet/finite-weights', () => tf.stack(params.map((p) => tf.mul(tf.sum(p.variable), 0))) as tf.Tensor1D);
  }

  private conclude(flags: ArrayLike<number>, { params, ids }: { params: Parameter[]; ids: object[] }): void {
    for (let i = 0; i < flags.length; i++) {
      if (Number.isNaN(flags[i]!)) {
        const name = params[i]!.name;
        throw new NonFiniteWeightsError(
          name,
          `the parameter "${name}" holds NaN or Inf: every output of this model would be meaningless. ` +
            'Load the last good checkpoint (and train with a lower learning rate)',
        );
      }
    }
    this.verified = ids;
  }
}
