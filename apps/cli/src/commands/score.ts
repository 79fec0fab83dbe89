import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { join } from 'node:path';
import { writeFileAtomic } from '@probunet/core/node';
import { assessAnnotations } from '@probunet/evaluation';
import { UsageError, defineCommand, type CommandValues } from '../cli-errors.js';
import { DATA_OPTIONS, DATA_SOURCES, dataSourceOptions, openDataSource } from '../dataset-source.js';
import { createOutputFolder } from '../output-folder.js';
import { loadModelCheckpoint, readAnnotation, readModelImage, requireLatentSpace } from '../model-inputs.js';
import { integerOption, requiredOption } from '../option-values.js';

export const SCORE_HELP = `probunet score — how plausible an annotation of an image is under a Prob. U-Net checkpoint.

Usage: probunet score --checkpoint CKPT --image x.png --annotation y.png [--samples 32] [--json]
       probunet score --checkpoint CKPT --data SOURCE [--root DIR] [--split NAME] [--limit N] --out DIR

The second form assesses every grader's annotation of every image of a dataset: DIR/annotations.csv
(one row per annotation), DIR/assessment.json (per-grader summaries, the least plausible
annotations) and a table of the least plausible ones on stdout.

Prints, in nats: the ELBO E_q[log p(y|x,z)] − KL(q‖p) and the importance-sampled log-likelihood
log p(y|x) (posterior as proposal, --samples draws; ≥ ELBO up to noise), and KL(q(z|x,y) ‖ p(z|x)).

Options:
  --checkpoint CKPT  a prob-unet checkpoint
  --image PNG        8-bit gray or RGB, as the model takes
  --annotation PNG   class ids in the first channel (for 2 classes, a 0/255 mask works too)
  --data SOURCE      a dataset instead: ${DATA_SOURCES.join(' | ')} (with --root, --split, --limit,
                     --size/--count for the synthetic ones, --worst N least plausible to list, --out DIR)
  --samples N        posterior draws (default 32)
  --seed N           seed of the draws (default 0)
  --backend NAME     auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --json             print {"elbo", "logLikelihood", "kl", "samples", "seed", "checkpoint", ...} as JSON
  --verbose, --help

Example:
  probunet score --checkpoint runs/s32/model.ckpt --image lesion.png --annotation grader0.png --json
  probunet score --checkpoint runs/lidc/model.ckpt --data lidc --root ~/data/lidc --split test --out runs/lidc/assessment
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  image: { type: 'string' },
  annotation: { type: 'string' },
  ...DATA_OPTIONS,
  worst: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', default: false },
  samples: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

export const score = defineCommand('score', SCORE_HELP, OPTIONS, async (values) => {
  const checkpoint = requiredOption('checkpoint', values.checkpoint, 'CKPT');
  if (values.data !== undefined) return scoreDataset(checkpoint, values);
  const imagePath = requiredOption('image', values.image, 'PNG');
  const annotationPath = requiredOption('annotation', values.annotation, 'PNG');
  const samples = integerOption('samples', values.samples, 1) ?? 32;
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  let image: tf.Tensor4D | undefined;
  let labels: tf.Tensor3D | undefined;
  try {
    const net = requireLatentSpace(model, checkpoint, 'score');
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

/** `score --data`: every grader's annotation of every image, assessed (@probunet/evaluation). */
async function scoreDataset(checkpoint: string, values: CommandValues<typeof OPTIONS>): Promise<number> {
  if (values.image !== undefined || values.annotation !== undefined) throw new UsageError('give either --image/--annotation or --data, not both');
  const out = requiredOption('out', values.out, 'DIR');
  const samples = integerOption('samples', values.samples, 1) ?? 32;
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  const worst = integerOption('worst', values.worst, 1) ?? 10;
  const dataOptions = dataSourceOptions(values, { split: 'test', size: 32, minSize: 4, count: 32, seed });
  const dataset = await openDataSource(dataOptions);
  await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  try {
    const net = requireLatentSpace(model, checkpoint, 'score');
    let last = 0;
    const a = await assessAnnotations(net, dataset, {
      samples,
      seed,
      worst,
      onProgress: ({ done, total }) => {
        if (done === total || performance.now() - last > 1000) {
          last = performance.now();
          process.stderr.write(`score  ${done}/${total} images\n`);
        }
      },
    });
    const folder = await createOutputFolder(out, { option: '--out', replace: values.force ? 'force' : 'refuse' });
    try {
      const csv = ['index,id,grader,elbo,logLikelihood,kl', ...a.annotations.map((r) => [r.index, JSON.stringify(r.id), r.grader, r.elbo, r.logLikelihood, r.kl].join(','))].join('\n');
      await writeFileAtomic(join(folder.work, 'annotations.csv'), `${csv}\n`);
      await writeFileAtomic(join(folder.work, 'assessment.json'), `${JSON.stringify({ checkpoint, source: dataOptions.source, split: dataOptions.split, ...a }, null, 2)}\n`);
      await folder.commit();
    } catch (err) {
      await folder.discard();
      throw err;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ out: folder.target, images: a.dataset.images, perGrader: a.perGrader, leastPlausible: a.leastPlausible }, null, 2)}\n`);
    } else {
      process.stdout.write(`${a.annotations.length} annotations of ${a.dataset.images} images → ${folder.target}\nleast plausible (log p(y|x), nats):\n`);
      for (const r of a.leastPlausible) process.stdout.write(`  ${r.id.padEnd(24)} grader ${r.grader}  ${r.logLikelihood.toFixed(2)}\n`);
    }
    return 0;
  } finally {
    model.dispose();
  }
}
