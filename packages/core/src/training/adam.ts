import * as tf from '@tensorflow/tfjs-core';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * Adam (Kingma & Ba) with explicit, checkpointable state: first and second moments per named
 * parameter and the update count. TensorFlow's defaults: β1 0.9, β2 0.999, ε 1e-8.
 */
export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Updates applied so far. */
  iterations = 0;
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  constructor(options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  /** Applies one update to `variables[name]` from `grads[name]`. Does not dispose the gradients. */
  apply(variables: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    this.iterations++;
    const t = this.iterations;
    const stepSize = (learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    tf.tidy('probunet/adam', () => {
      for (const [name, g] of grads) {
        const variable = variables.get(name);
        if (!variable) throw new Error(`Adam: no variable named "${name}"`);
        const state = this.slot(name, variable);
        const m = tf.add(tf.mul(state.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(state.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        state.m.assign(m);
        state.v.assign(v);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon)), stepSize)));
      }
    });
  }

  /** Moments by parameter name, for checkpoints. The tensors stay owned by the optimizer. */
  stateTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, { m, v }] of this.moments) {
      out.set(`${name}/adam_m`, m);
      out.set(`${name}/adam_v`, v);
    }
    return out;
  }

  /** Restores moments written by `stateTensors` (values are copied). */
  restore(iterations: number, tensors: ReadonlyMap<string, tf.Tensor>, variables: ReadonlyMap<string, tf.Variable>): void {
    this.disposeMoments();
    this.iterations = iterations;
    for (const [name, variable] of variables) {
      const m = tensors.get(`${name}/adam_m`);
      const v = tensors.get(`${name}/adam_v`);
      if (!m || !v) continue;
      if (!tf.util.arraysEqual(m.shape, variable.shape) || !tf.util.arraysEqual(v.shape, variable.shape)) {
        throw new RangeError(`Adam state for "${name}" has shape [${m.shape}] but the parameter has [${variable.shape}]`);
      }
      this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
    }
  }

  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }

  private slot(name: string, variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let s = this.moments.get(name);
    if (!s) {
      s = { m: tf.variable(tf.zerosLike(variable), false), v: tf.variable(tf.zerosLike(variable), false) };
      this.moments.set(name, s);
    }
    return s;
  }
}
