import type { CheckpointableModel } from './checkpointable.js';
import type { ProbUNet } from './prob-unet.js';

/** The methods a conditional latent space gives: the Prob. U-Net's, and any plugin model's with the same parts. */
export const LATENT_SPACE_METHODS = ['priorDistribution', 'posteriorDistribution', 'latentTraversal', 'scoreAnnotation'] as const;

/**
 * A model with a conditional latent space: a prior p(z|x) and a posterior q(z|x,y) over a
 * `latentDim`-dimensional Gaussian, latent traversals and annotation scores (importance-sampled
 * log p(y|x), ELBO). Apps ask `hasLatentSpace(model)` — never `instanceof ProbUNet` or the type
 * name — so a plugin's model that declares the same methods gets the same tools.
 */
export type LatentSpaceModel = CheckpointableModel &
  Pick<ProbUNet, 'latentDim' | 'inputChannels' | 'ignoreLabel' | (typeof LATENT_SPACE_METHODS)[number]>;

/** Whether `model` has a conditional latent space (every method of LATENT_SPACE_METHODS and a latentDim). */
export function hasLatentSpace(model: CheckpointableModel): model is LatentSpaceModel {
  const m = model as unknown as Record<string, unknown>;
  return typeof m.latentDim === 'number' && LATENT_SPACE_METHODS.every((name) => typeof m[name] === 'function');
}
