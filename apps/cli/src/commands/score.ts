import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { defineCommand } from '../cli-errors.js';
import { loadModelCheckpoint, readAnnotation, readModelImage, requireProbUNet } from '../model-inputs.js';
import { integerOption, requiredOption } from '../option-values.js';

export const SCORE_HELP = `probunet score — how plausible an annotation of an image is under a Prob. U-Net checkpoint.

Usage: probunet score --checkpoint CKPT --image x.png --annotation y.png [--samples 32] [--json]

Prints, in nats: the ELBO E_q[log p(y|x,z)] − KL(q‖p) and the importance-sampled log-likelihood
log p(y|x) (posterior as proposal, --samples draws; ≥ ELBO up to noise), and KL(q(z|x,y) ‖ p(z|x)).

Options:
  --checkpoint CKPT  a prob-unet checkpoint
  --image PNG        8-bit gray or RGB, as the model takes
  --annotation PNG   class ids in the first channel (for 2 classes, a 0/255 mask works too)
  --samples N        posterior draws (default 32)
  --seed N           seed of the draws (default 0)
  --backend NAME     auto | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --json             print {"elbo", "logLikelihood", "kl", "samples", "seed", "checkpoint", ...} as JSON
  --verbose, --help

Example:
  probunet score --checkpoint runs/s32/model.ckpt --image lesion.png --annotation grader0.png --json
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  image: { type: 'string' },
  annotation: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export const score = defineCommand('score', SCORE_HELP, OPTIONS, async (values) => {
  const checkpoint = requiredOption('checkpoint', values.checkpoint, 'CKPT');
  const imagePath = requiredOption('image', values.image, 'PNG');
  const annotationPath = requiredOption('annotation', values.annotation, 'PNG');
  const samples = integerOption('samples', values.samples, 1) ?? 32;
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  let image: tf.Tensor4D | undefined;
  let labels: tf.Tensor3D | undefined;
  try {
    const net = requireProbUNet(model, checkpoint, 'score');
    const read = await readModelImage(imagePath, net);
    image = read.tensor;
    labels = await readAnnotation(annotationPath, net, read.png.height, read.png.width);
    const s = await net.scoreAnnotation(image, labels, { samples, seed });
    const result = { checkpoint, image: imagePath, annotation: annotationPath, samples, seed, elbo: s.elbo[0]!, logLikelihood: s.logLikelihood[0]!, kl: s.kl[0]!, unit: 'nats' };
    process.stdout.write(
      values.json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `ELBO            ${result.elbo.toFixed(3)} nats\nlog p(y|x)      ${result.logLikelihood.toFixed(3)} nats (importance-sampled, ${samples} draws)\nKL(q‖p)         ${result.kl.toFixed(3)} nats\n`,
    );
    return 0;
  } finally {
    image?.dispose();
    labels?.dispose();
    model.dispose();
  }
});
