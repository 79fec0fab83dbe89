import type * as tf from '@tensorflow/tfjs-core';

/** One trainable tensor of a component, named for checkpoints and parameter counts. */
export interface Parameter {
  /** Unique within its component, e.g. `down2/conv1/kernel`. */
  readonly name: string;
  readonly variable: tf.Variable;
  /** Whether the L2 weight decay of the loss applies (conv kernels, except the final logits conv). */
  readonly weightDecay: boolean;
}

/** Total number of scalars in a list of parameters. */
export function countParameters(params: readonly Parameter[]): number {
  return params.reduce((sum, p) => sum + p.variable.size, 0);
}
