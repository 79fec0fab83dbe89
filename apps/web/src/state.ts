import { hasLatentSpace, type CheckpointableModel, type LatentSpaceModel, type PreparedFusion, type ProbUNet } from '@probunet/core';
import type { BrowserBackendState } from './backend.js';
import type { LoadedModel } from './models.js';
import type { Picture } from './render.js';

/**
 * What the page holds between actions. One object, written only by the panel that owns each field:
 * the backend panel `backend`, the models panel `prob`/`det`, the image panel `picture`/`graders`,
 * the latent panel `latent`, the annotation panel `drawing`.
 */
export interface AppState {
  backend: BrowserBackendState | null;
  /** The Prob. U-Net slot (a model whose kind is `prob-unet`). */
  prob: LoadedModel | null;
  /** The comparison slot (any other model kind). */
  det: LoadedModel | null;
  picture: Picture | null;
  /** The current image's graders' annotations (none for a user's own image). */
  graders: Uint8Array[];
  /** The image's prepared fusion head and prior (μ, σ), built on the first slider move. */
  latent: LatentState | null;
  /** The user's annotation, one label per pixel. */
  drawing: Uint8Array | null;
}

export interface LatentState {
  prepared: PreparedFusion;
  mean: Float32Array;
  sigma: Float32Array;
}

export const state: AppState = { backend: null, prob: null, det: null, picture: null, graders: [], latent: null, drawing: null };

/** A model with a latent space (`hasLatentSpace`) and the Prob. U-Net's parts, which the latent panel runs one by one. */
export type LatentPartsModel = LatentSpaceModel & Pick<ProbUNet, 'encoder' | 'prior' | 'fusion'>;

/**
 * Whether a model has a latent space to explore and an ELBO to score an annotation with, asked of its
 * capabilities (core's `hasLatentSpace` and the parts), never its class or type name.
 */
export function hasLatentParts(model: CheckpointableModel | undefined): model is LatentPartsModel {
  if (!model || !hasLatentSpace(model)) return false;
  const m = model as unknown as Record<string, unknown>;
  return ['encoder', 'prior', 'fusion'].every((part) => typeof m[part] === 'object' && m[part] !== null);
}
