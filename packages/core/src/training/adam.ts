import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError } from '../errors.js';
import { backendCapabilities, CAPABILITY_KERNELS } from '../ops/conv.js';
import { sumAll } from '../ops/sum.js';

export interface AdamOptions {
  /** In [0, 1). Default 0.9. */
  beta1?: number;
  /** In [0, 1). Default 0.999. */
  beta2?: number;
  /** Finite and > 0. Default 1e-8. */
  epsilon?: number;
}

/**
 * One Adam update computed but not yet applied: the new weights and moments, and Σ(Δw)², which is
 * NaN or Inf whenever any element of the update is (or when ‖Δw‖ exceeds float32's 1.8e19, an
 * update no sane run makes). Hand it to `commit` or `discard`; either frees it.
 */
export interface PendingUpdate {
  readonly updateSquaredNorm: tf.Scalar;
  readonly values: ReadonlyMap<string, { weight: tf.Tensor; m: tf.Tensor; v: tf.Tensor }>;
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
    this.beta1 = unitInterval('beta1', options.beta1 ?? 0.9);
    this.beta2 = unitInterval('beta2', options.beta2 ?? 0.999);
    this.epsilon = options.epsilon ?? 1e-8;
    if (!(this.epsilon > 0) || !Number.isFinite(this.epsilon)) {
      throw new ConfigError(`adam.epsilon must be finite and > 0, got ${this.epsilon}: the default is 1e-8`);
    }
  }

  /**
   * Computes one update of `variables[name]` from `grads[name]` without applying it; the moments,
   * the weights and `iterations` stay as they are. Does not dispose the gradients.
   */
  prepare(variables: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, learningRate: number): PendingUpdate {
    const t = this.iterations + 1;
    const stepSize = (learningRate * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    return tf.tidy('probunet/adam', () => {
      const values = new Map<string, { weight: tf.Tensor; m: tf.Tensor; v: tf.Tensor }>();
      const checks: tf.Tensor[] = [];
      const fused = backendCapabilities().fusedAdam;
      for (const [name, g] of grads) {
        const variable = variables.get(name);
        if (!variable) throw new ConfigError(`Adam: no variable named "${name}"`);
        const state = this.moments.get(name);
        if (fused && g.dtype === 'float32' && tf.util.arraysEqual(g.shape, variable.shape)) {
          // One pass over memory on backends that offer it (the same float32 values as below).
          const inputs: tf.NamedTensorMap = state ? { w: variable, g, m: state.m, v: state.v } : { w: variable, g };
          const attrs = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, stepSize };
          const [weight, m, v, sumSq] = tf.engine().runKernel(CAPABILITY_KERNELS.fusedAdam, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          checks.push(sumSq!);
          values.set(name, { weight: tf.keep(weight!), m: tf.keep(m!), v: tf.keep(v!) });
          continue;
        }
        const m = state ? tf.add(tf.mul(state.m, this.beta1), tf.mul(g, 1 - this.beta1)) : tf.mul(g, 1 - this.beta1);
        const v = state ? tf.add(tf.mul(state.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)) : tf.mul(tf.square(g), 1 - this.beta2);
        const update = tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.epsilon)), stepSize);
        const weight = tf.sub(variable, update);
        checks.push(tf.sum(tf.square(update)));
        values.set(name, { weight: tf.keep(weight), m: tf.keep(m), v: tf.keep(v) });
      }
      // tidy does not look inside a Map: the values are kept explicitly above.
      return { updateSquaredNorm: sumAll(checks) as tf.Scalar, values } as unknown as tf.TensorContainer;
    }) as unknown as PendingUpdate;
  }

  /** Applies a prepared update (and counts it); frees it. */
  commit(pending: PendingUpdate, variables: ReadonlyMap<string, tf.Variable>): void {
    this.iterations++;
    for (const [name, { weight, m, v }] of pending.values) {
      variables.get(name)!.assign(weight);
      const state = this.moments.get(name);
      if (state) {
        state.m.assign(m);
        state.v.assign(v);
      } else {
        this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
      }
    }
    this.discard(pending);
  }

  /** Frees a prepared update without applying it. */
  discard(pending: PendingUpdate): void {
    tf.dispose([pending.updateSquaredNorm, ...[...pending.values.values()].flatMap((x) => [x.weight, x.m, x.v])]);
  }

  /** Applies one update to `variables[name]` from `grads[name]` unchecked. Does not dispose the gradients. */
  apply(variables: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    this.commit(this.prepare(variables, grads, learningRate), variables);
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

  /**
   * Restores moments written by `stateTensors` (values are copied). After at least one update,
   * every variable needs both moments: a missing one would silently restart at zero.
   */
  restore(iterations: number, tensors: ReadonlyMap<string, tf.Tensor>, variables: ReadonlyMap<string, tf.Variable>): void {
    for (const [name, variable] of variables) {
      const m = tensors.get(`${name}/adam_m`);
      const v = tensors.get(`${name}/adam_v`);
      if (!m && !v && iterations === 0) continue;
      if (!m || !v) {
        throw new CheckpointError(`the optimizer state has no ${m ? 'adam_v' : 'adam_m'} for "${name}" after ${iterations} updates: the checkpoint is incomplete`);
      }
      if (!tf.util.arraysEqual(m.shape, variable.shape) || !tf.util.arraysEqual(v.shape, variable.shape)) {
        throw new CheckpointError(`Adam state for "${name}" has shape [${m.shape}] but the parameter has [${variable.shape}]`);
      }
    }
    this.disposeMoments();
    this.iterations = iterations;
    for (const [name] of variables) {
      const m = tensors.get(`${name}/adam_m`);
      const v = tensors.get(`${name}/adam_v`);
      if (m && v) this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
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
}

function unitInterval(name: string, value: number): number {
  if (!(value >= 0 && value < 1)) throw new ConfigError(`adam.${name} must be in [0, 1), got ${value}: the default is ${name === 'beta1' ? 0.9 : 0.999}`);
  return value;
}
