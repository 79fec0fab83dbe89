import * as tf from '@tensorflow/tfjs-core';
import {
  SeededRandom,
  createRegistry,
  type CheckpointableModel,
  type InputSpec,
  type Parameter,
  type SampleOptions,
} from '@probunet/core';
import { sumAll, validateImages } from '@probunet/core/internal';
import { DeterministicUNet } from './deterministic-unet.js';
import { SHORT_FORM_KEYS, checkKnownKeys, positiveInteger, resolveUNetOptions, type UNetOptions, type UNetShortForm } from './model-options.js';

export interface UNetEnsembleConfig extends UNetShortForm {
  type?: 'unet-ensemble';
  /** Number of independently initialised U-Nets. Default 4 (the paper's Sec. 4). */
  members?: number;
}

/** What `getConfig()` returns: every option filled in. */
export interface UNetEnsembleModelConfig extends UNetOptions {
  type: 'unet-ensemble';
  members: number;
}

/** Member i is initialised from seed + MEMBER_SEED_STRIDE·i. */
const MEMBER_SEED_STRIDE = 1000;

/**
 * The U-Net Ensemble baseline: M deterministic U-Nets, each initialised from its own seed, sharing
 * no weights. One Trainer step trains all members on the same batch with their losses summed (the
 * gradients stay separate); given several annotations per image each member draws its own grader.
 * Sample i is member i mod M's answer.
 */
export class UNetEnsemble implements CheckpointableModel {
  readonly kind = 'unet-ensemble' as const;
  readonly numClasses: number;
  readonly ignoreLabel: number;
  readonly members: readonly DeterministicUNet[];
  private readonly config: UNetEnsembleModelConfig;

  constructor(config: UNetEnsembleConfig) {
    const type = 'unet-ensemble';
    checkKnownKeys(type, config, [...SHORT_FORM_KEYS, 'members']);
    const unet = resolveUNetOptions(type, config);
    this.config = { type, ...unet, members: positiveInteger(type, 'members', config.members ?? 4, 4) };
    this.numClasses = unet.numClasses;
    this.ignoreLabel = unet.ignoreLabel;
    const registry = createRegistry();
    this.members = Array.from({ length: this.config.members }, (_, i) => {
      const seed = unet.seed + MEMBER_SEED_STRIDE * i;
      const { inputChannels, channels, convsPerBlock } = unet;
      return new DeterministicUNet(
        { encoder: { type: 'unet', inputChannels, channels, convsPerBlock, seed }, numClasses: unet.numClasses, ignoreLabel: unet.ignoreLabel, seed },
        registry,
      );
    });
  }

  get inputSpec(): InputSpec {
    return this.members[0]!.inputSpec;
  }

  /** Σ over members of each member's mean per-image cross-entropy, all on the same annotation. */
  lossTerms(images: tf.Tensor4D, labels: tf.Tensor3D, _seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    return this.sumMembers(this.members.map((m) => m.lossTerms(images, labels)));
  }

  /** As `lossTerms`, but each member draws its own grader per image from labels [B,A,H,W] (seeded). */
  lossTermsAllGraders(images: tf.Tensor4D, labels: tf.Tensor4D, seed: number): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const [b, a, h, w] = labels.shape;
    const rng = new SeededRandom(seed);
    const flat = tf.reshape(labels, [b * a, h, w]) as tf.Tensor3D;
    try {
      return this.sumMembers(
        this.members.map((m) => {
          const picked = tf.gather(flat, Array.from({ length: b }, (_, i) => i * a + rng.nextInt(a))) as tf.Tensor3D;
          try {
            return m.lossTerms(images, picked);
          } finally {
            picked.dispose();
          }
        }),
      );
    } finally {
      flat.dispose();
    }
  }

  /** n samples per image: sample i is member (i mod M)'s segmentation. int32 [B,n,H,W]; caller owns it. */
  sample(images: tf.Tensor4D, n: number, _options: SampleOptions = {}): tf.Tensor4D {
    validateImages(images, this.inputSpec);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`the number of samples n must be a positive integer, got ${n}`);
    return tf.tidy('probunet/unet-ensemble-sample', () => {
      const answers = this.members.slice(0, n).map((m) => tf.argMax(m.logits(images), 3));
      return tf.stack(Array.from({ length: n }, (_, i) => answers[i % answers.length]!), 1) as tf.Tensor4D;
    });
  }

  parameters(): Parameter[] {
    return this.members.flatMap((m, i) => m.parameters().map((p) => ({ ...p, name: `member${i}/${p.name}` })));
  }

  getConfig(): UNetEnsembleModelConfig {
    return { ...this.config, channels: [...this.config.channels] };
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }

  private sumMembers(parts: Array<{ objective: tf.Scalar; terms: Record<string, tf.Scalar> }>): { objective: tf.Scalar; terms: Record<string, tf.Scalar> } {
    const objective = sumAll(parts.map((p) => p.objective)) as tf.Scalar;
    const terms: Record<string, tf.Scalar> = { reconstruction: tf.clone(objective) };
    parts.forEach((p, i) => {
      terms[`member${i}`] = p.objective;
      tf.dispose(Object.values(p.terms));
    });
    return { objective, terms };
  }
}
