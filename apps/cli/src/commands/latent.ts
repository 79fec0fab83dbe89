import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { writeFileAtomic } from '@probunet/core/node';
import { COMMON_OPTIONS, defineCommand } from '../cli-errors.js';
import { overlayImage } from '../figures/colour.js';
import { labelledGridFigure } from '../figures/labelled-grid.js';
import { loadModelCheckpoint, readModelImage, requireLatentSpace } from '../model-inputs.js';
import { integerOption, positiveNumberOption, requiredOption } from '../option-values.js';
import { UsageError } from '../cli-errors.js';
import { access } from 'node:fs/promises';

export const LATENT_HELP = `probunet latent — walk the latent space of a Prob. U-Net for one image, as a labelled PNG grid.

Usage: probunet latent --checkpoint CKPT --image x.png --out traversal.png [options]

Row d varies latent dimension d: z = μ + t·σ·e_d of the prior p(z|x), t evenly spaced in
[−range, range] (the columns); the other dimensions stay at the prior mean. Each cell is the
segmentation drawn over the image.

Options:
  --checkpoint CKPT  a prob-unet checkpoint
  --image PNG        8-bit gray or RGB, as the model takes
  --out FILE         the PNG to write (refused if it exists, unless --force)
  --steps N          points per dimension (default 5)
  --range X          how many prior standard deviations to walk each way (default 2)
  --backend NAME     auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --json             print {"out", "dims", "offsets"} as JSON
  --force, --verbose, --help

Example:
  probunet latent --checkpoint runs/s32/model.ckpt --image lesion.png --out runs/s32/latent.png
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  image: { type: 'string' },
  out: { type: 'string' },
  steps: { type: 'string' },
  range: { type: 'string' },
  ...COMMON_OPTIONS,
} as const;

export const latent = defineCommand('latent', LATENT_HELP, OPTIONS, async (values) => {
  const checkpoint = requiredOption('checkpoint', values.checkpoint, 'CKPT');
  const imagePath = requiredOption('image', values.image, 'PNG');
  const out = requiredOption('out', values.out, 'FILE');
  const steps = integerOption('steps', values.steps, 1) ?? 5;
  const range = positiveNumberOption('range', values.range) ?? 2;
  if (!values.force && (await access(out).then(() => true, () => false))) throw new UsageError(`--out ${out} exists: pass --force to replace it`);
  await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  try {
    const net = requireLatentSpace(model, checkpoint, 'latent');
    const { tensor, png } = await readModelImage(imagePath, net);
    const image = (await tensor.data()) as Float32Array;
    const walk = net.latentTraversal(tensor, { steps, range });
    const labels = (await walk.labels.data()) as Int32Array;
    tf.dispose([tensor, walk.labels]);
    const { width: w, height: h } = png;
    const hw = w * h;
    const cells = walk.dims.map((_, r) =>
      walk.offsets.map((_, c) => overlayImage(image, net.inputChannels, labels.subarray((r * steps + c) * hw, (r * steps + c + 1) * hw), w, h, net.ignoreLabel)),
    );
    const bytes = await labelledGridFigure({
      title: 'latent traversal: z = prior mean + t * prior sd, along one dimension per row', // ASCII: the bitmap font has no Greek
      cells,
      columnLabels: walk.offsets.map((t) => `t = ${Number(t.toFixed(2))}`),
      rowLabels: walk.dims.map((d) => `z${d}`),
      caption: 't: offset from the prior mean, in prior standard deviations (sd)',
    });
    await writeFileAtomic(out, bytes);
    process.stdout.write(values.json ? `${JSON.stringify({ out, dims: walk.dims, offsets: walk.offsets }, null, 2)}\n` : `wrote ${out} (${walk.dims.length} dimensions × ${steps} steps)\n`);
    return 0;
  } finally {
    model.dispose();
  }
});
