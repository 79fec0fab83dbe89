import * as tf from '@tensorflow/tfjs-core';
import { halfSquaredNorm } from '../ops/loss.js';
import type { GradientResult, GradientSource } from '../spec/gradient-source.js';
import type { TrainableModel } from '../spec/trainable-model.js';

/**
 * The default GradientSource: differentiates the model's objective + λ·Σ½‖w‖² (decay on the
 * parameters marked for it) in this thread, with one read-back of the loss values.
 */
export class ModelGradients implements GradientSource {
  private readonly variables: Map<string, tf.Variable>;
  private readonly decayed: tf.Variable[];

  constructor(
    private readonly model: TrainableModel,
    readonly weightDecay: number,
  ) {
    const params = model.parameters();
    this.variables = new Map(params.map((p) => [p.name, p.variable]));
    this.decayed = params.filter((p) => p.weightDecay).map((p) => p.variable);
  }

  async computeGradients(images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D, seed: number): Promise<GradientResult> {
    let termNames: string[] = [];
    let terms: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const { objective, terms: parts } =
        labels.rank === 4 ? this.model.lossTermsAllGraders!(images, labels as tf.Tensor4D, seed) : this.model.lossTerms(images, labels as tf.Tensor3D, seed);
      const l2 = halfSquaredNorm(this.decayed);
      termNames = Object.keys(parts);
      terms = [...Object.values(parts).map((t) => tf.keep(t)), tf.keep(l2)];
      return tf.add(objective, tf.mul(l2, this.weightDecay)) as tf.Scalar;
    }, [...this.variables.values()]);
    const ids = new Map([...this.variables].map(([name, v]) => [v.name, name]));
    const named = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads)) named.set(ids.get(varName)!, g);
    try {
      const values = await Promise.all([value, ...terms].map(async (t) => (await t.data())[0]!));
      return {
        grads: named,
        loss: values[0]!,
        terms: Object.fromEntries(termNames.map((name, i) => [name, values[i + 1]!])),
        halfSquaredNorm: values[values.length - 1]!,
      };
    } finally {
      tf.dispose([value, ...terms]);
    }
  }
}
