import * as tf from '@tensorflow/tfjs-core';
import { ConvLayer, DownPath, SeededRandom, type Parameter } from '@probunet/core';

/** A per-pixel diagonal Gaussian of one latent level: mean and log σ, both [B,h,w,d]. */
export interface LevelGaussian {
  mean: tf.Tensor4D;
  logSigma: tf.Tensor4D;
}

export interface HierarchicalCoreOptions {
  inputChannels: number;
  /** Per U-Net level, finest first. */
  channels: readonly number[];
  convsPerBlock: number;
  /** Latent channels per level, coarsest first; level l sits at U-Net level channels.length − 1 − l. */
  latentDims: readonly number[];
  logSigmaBound: number;
  seed: number;
  /**
   * 'full': the whole decoder up to the finest level (the prior, whose features the logits read);
   * 'latents': only as far as the last latent level needs (the posterior: nothing reads its features,
   * so no block after its last latent level is built; every parameter it has gets a gradient).
   */
  decoder: 'full' | 'latents';
}

/**
 * The HPU-Net's `_HierarchicalCore` with the core U-Net's blocks: the down path (core's DownPath),
 * then from the coarsest level up, at each latent level l a 1×1 conv to [μ, log σ] of a per-pixel
 * Gaussian, z_l chosen by the caller (sampled, the mean, or another net's), concat [z_l, features],
 * a bilinear align-corners resize to the next skip, concat the skip, `convsPerBlock` × (3×3 conv +
 * ReLU). Below the latent levels ('full') the decoder goes on as core's U-Net does.
 */
export class HierarchicalCore {
  readonly latentDims: readonly number[];
  private readonly down: DownPath;
  private readonly heads: ConvLayer[];
  /** up[i] produces U-Net level i from level i + 1; absent where this core stops. */
  private readonly up: Array<ConvLayer[] | undefined>;
  private readonly levels: number;
  private readonly logSigmaBound: number;

  constructor(options: HierarchicalCoreOptions) {
    const { channels, convsPerBlock, latentDims } = options;
    const rng = new SeededRandom(options.seed);
    this.levels = channels.length;
    this.latentDims = [...latentDims];
    this.logSigmaBound = options.logSigmaBound;
    this.down = new DownPath(options.inputChannels, channels, convsPerBlock, rng);
    const top = this.levels - 1;
    this.heads = latentDims.map(
      (d, l) => new ConvLayer({ kernelSize: 1, inputChannels: channels[top - l]!, outputChannels: 2 * d, activation: 'linear', weightDecay: true, rng }),
    );
    this.up = [];
    const lowest = options.decoder === 'full' ? 0 : top - latentDims.length + 1;
    for (let i = top - 1; i >= lowest; i--) {
      const latent = latentDims[top - 1 - i] ?? 0; // the level at i + 1 feeds its z to this block
      let cin = latent + channels[i + 1]! + channels[i]!;
      const block: ConvLayer[] = [];
      for (let j = 0; j < convsPerBlock; j++) {
        block.push(new ConvLayer({ kernelSize: 3, inputChannels: cin, outputChannels: channels[i]!, activation: 'relu', weightDecay: true, rng }));
        cin = channels[i]!;
      }
      this.up[i] = block;
    }
  }

  /** The down path's outputs (the skips), finest first. Caller owns them. */
  encode(input: tf.Tensor4D): tf.Tensor4D[] {
    return this.down.apply(input);
  }

  /**
   * Runs the decoder from the skips. `pick(l, g)` returns z_l [B,h_l,w_l,d_l] for level l given its
   * Gaussian. Returns every level's Gaussian, the z's used, and ('full') the finest features.
   * Call inside a tidy: the intermediate tensors are the caller's scope's.
   */
  decode(skips: readonly tf.Tensor4D[], pick: (level: number, g: LevelGaussian) => tf.Tensor4D): {
    distributions: LevelGaussian[];
    latents: tf.Tensor4D[];
    features: tf.Tensor4D | undefined;
  } {
    const distributions: LevelGaussian[] = [];
    const latents: tf.Tensor4D[] = [];
    const top = this.levels - 1;
    let h = skips[top]!;
    for (let r = top; r >= 1; r--) {
      const l = top - r;
      let x = h;
      if (l < this.latentDims.length) {
        const g = this.gaussian(l, h);
        const z = pick(l, g);
        distributions.push(g);
        latents.push(z);
        x = tf.concat([z, h], 3);
      }
      const block = this.up[r - 1];
      if (!block) return { distributions, latents, features: undefined };
      const skip = skips[r - 1]!;
      h = tf.concat([tf.image.resizeBilinear(x, [skip.shape[1], skip.shape[2]], true), skip], 3);
      for (const layer of block) h = layer.apply(h);
    }
    return { distributions, latents, features: h };
  }

  parameters(): Parameter[] {
    const heads = this.heads.flatMap((layer, l) => layer.parameters(`latent${l}`));
    const ups = this.up.flatMap((block, i) => (block ?? []).flatMap((layer, j) => layer.parameters(`up${i}/conv${j}`)));
    return [...this.down.parameters('down'), ...heads, ...ups];
  }

  dispose(): void {
    this.down.dispose();
    for (const layer of this.heads) layer.dispose();
    for (const block of this.up) for (const layer of block ?? []) layer.dispose();
  }

  private gaussian(level: number, features: tf.Tensor4D): LevelGaussian {
    const d = this.latentDims[level]!;
    const [mean, raw] = tf.split(this.heads[level]!.apply(features), [d, d], 3) as [tf.Tensor4D, tf.Tensor4D];
    const b = this.logSigmaBound;
    return { mean, logSigma: tf.mul(tf.tanh(tf.div(raw, b)), b) as tf.Tensor4D };
  }
}

/** The parameter shapes a HierarchicalCore with these options allocates, by the names `parameters()` gives; nothing allocated. */
export function hierarchicalCoreShapes(options: Omit<HierarchicalCoreOptions, 'seed' | 'logSigmaBound'>): Map<string, number[]> {
  const { inputChannels, channels, convsPerBlock, latentDims } = options;
  const out = new Map<string, number[]>();
  const conv = (name: string, k: number, cin: number, cout: number) => {
    out.set(`${name}/kernel`, [k, k, cin, cout]);
    out.set(`${name}/bias`, [cout]);
  };
  let cin = inputChannels;
  channels.forEach((cout, i) => {
    for (let j = 0; j < convsPerBlock; j++) {
      conv(`down${i}/conv${j}`, 3, cin, cout);
      cin = cout;
    }
  });
  const top = channels.length - 1;
  latentDims.forEach((d, l) => conv(`latent${l}`, 1, channels[top - l]!, 2 * d));
  const lowest = options.decoder === 'full' ? 0 : top - latentDims.length + 1;
  for (let i = top - 1; i >= lowest; i--) {
    let c = (latentDims[top - 1 - i] ?? 0) + channels[i + 1]! + channels[i]!;
    for (let j = 0; j < convsPerBlock; j++) {
      conv(`up${i}/conv${j}`, 3, c, channels[i]!);
      c = channels[i]!;
    }
  }
  return out;
}
