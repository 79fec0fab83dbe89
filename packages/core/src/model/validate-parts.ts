import type { Encoder, FusionHead, LatentNet } from '../spec/components.js';
import { ConfigError } from '../errors.js';

/** Checks that the four parts fit together; every message says how to fix the mismatch. */
export function validateParts(encoder: Encoder, prior: LatentNet, posterior: LatentNet, fusion: FusionHead): void {
  const problems: string[] = [];
  if (prior.latentDim !== posterior.latentDim) {
    problems.push(`prior.latentDim (${prior.latentDim}) differs from posterior.latentDim (${posterior.latentDim}): build both with the same latentDim`);
  }
  if (fusion.latentDim !== prior.latentDim) {
    problems.push(`fusion.latentDim (${fusion.latentDim}) differs from prior.latentDim (${prior.latentDim}): build the fusion head with latentDim ${prior.latentDim}`);
  }
  if (fusion.featureChannels !== encoder.featureChannels) {
    problems.push(
      `fusion.featureChannels (${fusion.featureChannels}) differs from encoder.featureChannels (${encoder.featureChannels}): ` +
        `build the fusion head with featureChannels ${encoder.featureChannels}`,
    );
  }
  if (prior.conditionChannels !== 0) {
    problems.push(`prior.conditionChannels is ${prior.conditionChannels}: the prior sees the image alone, build it with conditionChannels 0`);
  }
  if (posterior.conditionChannels !== fusion.numClasses) {
    problems.push(
      `posterior.conditionChannels (${posterior.conditionChannels}) differs from fusion.numClasses (${fusion.numClasses}): ` +
        `the posterior reads the one-hot segmentation, build it with conditionChannels ${fusion.numClasses}`,
    );
  }
  for (const [name, part] of [['prior', prior], ['posterior', posterior]] as const) {
    if (part.imageChannels !== encoder.inputChannels) {
      problems.push(`${name}.imageChannels (${part.imageChannels}) differs from encoder.inputChannels (${encoder.inputChannels}): all parts read the same image`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`the model's parts do not fit together:\n- ${problems.join('\n- ')}`);
}
