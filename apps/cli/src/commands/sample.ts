import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encode } from 'fast-png';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { writeFileAtomic } from '@probunet/core/node';
import { COMMON_OPTIONS, defineCommand } from '../cli-errors.js';
import { classColour, overlayImage } from '../figures/colour.js';
import { heatMapFigure } from '../figures/heat-map-figure.js';
import { labelledGridFigure } from '../figures/labelled-grid.js';
import { loadModelCheckpoint, readModelImage } from '../model-inputs.js';
import { integerOption, requiredOption } from '../option-values.js';
import { createOutputFolder } from '../output-folder.js';
import { uncertaintyMaps } from '@probunet/metrics';

export const SAMPLE_HELP = `probunet sample — draw segmentations of one image from a checkpoint (any of the six model types).

Usage: probunet sample --checkpoint CKPT --image x.png --out DIR [-n 16] [options]

Options:
  --checkpoint CKPT  a checkpoint written by 'probunet train' (or demo)
  --image PNG        8-bit gray (1-channel models) or RGB (3-channel models), sides divisible by the
                     model's down-sampling factor; values are scaled to [0, 1]
  -n, --samples N    how many samples (default 16)
  --seed N           sampling seed (default 0)
  --out DIR          output folder; refused if it exists, unless --force
  --backend NAME     auto | native | wasm-native | wasm | cpu | node | node-gpu | webgpu (default auto)
  --json             print the summary as JSON on stdout
  --force, --verbose, --help

DIR gets sample-00.png … (class ids as 8-bit gray; for 2 classes 0/255 like LIDC masks),
overlay-grid.png (the image and every sample drawn over it), frequency-class-K.png (per class
present in the samples: the share of samples giving each pixel that class, 0–1), entropy.png (the
entropy of those shares in nats, 0 … ln(numClasses)) and summary.json.

Example:
  probunet sample --checkpoint runs/s32/model.ckpt --image lesion.png -n 16 --out runs/s32/samples
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  image: { type: 'string' },
  samples: { type: 'string', short: 'n' },
  seed: { type: 'string' },
  out: { type: 'string' },
  ...COMMON_OPTIONS,
} as const;

export const sample = defineCommand('sample', SAMPLE_HELP, OPTIONS, async (values) => {
  const checkpoint = requiredOption('checkpoint', values.checkpoint, 'CKPT');
  const imagePath = requiredOption('image', values.image, 'PNG');
  const out = requiredOption('out', values.out, 'DIR');
  const n = integerOption('samples', values.samples, 1) ?? 16;
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  try {
    const { tensor, png } = await readModelImage(imagePath, model);
    const { width: w, height: h } = png;
    const image = (await tensor.data()) as Float32Array;
    const drawn = model.sample(tensor, n, { seed });
    const data = (await drawn.data()) as Int32Array;
    tf.dispose([tensor, drawn]);
    const hw = w * h;
    const samples = Array.from({ length: n }, (_, k) => data.subarray(k * hw, (k + 1) * hw));
    const { numClasses, ignoreLabel, channels } = model.inputSpec;
    const u = uncertaintyMaps(
      samples.map((data) => ({ data, height: h, width: w })),
      { numClasses },
    );
    // Per class, the share of samples giving each pixel that class (metrics keeps class fastest).
    const classFrequency = Array.from({ length: numClasses }, (_, k) => Float32Array.from({ length: hw }, (_, i) => u.frequencies[i * numClasses + k]!));
    const maps = { classFrequency, entropy: u.entropy };

    const folder = await createOutputFolder(out, { option: '--out', replace: values.force ? 'force' : 'refuse' });
    try {
      const files: string[] = [];
      const write = async (name: string, bytes: Uint8Array) => {
        await writeFileAtomic(join(folder.work, name), bytes);
        files.push(name);
      };
      for (let k = 0; k < n; k++) {
        const mask = Uint8Array.from(samples[k]!, (v) => (numClasses === 2 ? (v === 1 ? 255 : 0) : v));
        await write(`sample-${String(k).padStart(2, '0')}.png`, encode({ width: w, height: h, data: mask, channels: 1, depth: 8 }));
      }
      const cols = Math.min(8, n + 1);
      const cells = [overlayImage(image, channels, new Uint8Array(hw), w, h, ignoreLabel), ...samples.map((s) => overlayImage(image, channels, s, w, h, ignoreLabel))];
      const rows = Array.from({ length: Math.ceil(cells.length / cols) }, (_, r) => cells.slice(r * cols, (r + 1) * cols));
      const present = maps.classFrequency.map((f, k) => (f.some((v) => v > 0) ? k : -1)).filter((k) => k > 0);
      await write(
        'overlay-grid.png',
        await labelledGridFigure({
          title: `${n} samples of ${model.kind} over the image`,
          cells: rows,
          rowLabels: rows.map((row, r) => rowLabel(r * cols, row.length)),
          caption: `classes: ${present.length ? present.map((k) => `${k} (rgb ${classColour(k).join(',')})`).join(', ') : 'background only'}`,
        }),
      );
      for (const k of present) {
        await write(`frequency-class-${k}.png`, await heatMapFigure(maps.classFrequency[k]!, w, h, { title: `share of ${n} samples giving class ${k}`, unit: 'share', min: 0, max: 1 }));
      }
      await write('entropy.png', await heatMapFigure(maps.entropy, w, h, { title: `predictive entropy of ${n} samples`, unit: 'nats', min: 0, max: Math.log(numClasses) }));
      let entropySum = 0;
      for (const v of maps.entropy) entropySum += v;
      const summary = {
        checkpoint,
        image: imagePath,
        model: model.kind,
        samples: n,
        seed,
        height: h,
        width: w,
        numClasses,
        meanEntropyNats: entropySum / hw,
        classShares: maps.classFrequency.map((f) => f.reduce((a, b) => a + b, 0) / hw),
        files: [...files, 'summary.json'],
      };
      await writeFileAtomic(join(folder.work, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      await folder.commit();
      process.stdout.write(values.json ? `${JSON.stringify({ ...summary, out: folder.target }, null, 2)}\n` : `wrote ${n} samples, overlay-grid.png, entropy.png and ${present.length} frequency map(s) to ${folder.target}\n`);
      return 0;
    } catch (err) {
      await folder.discard();
      throw err;
    }
  } finally {
    model.dispose();
  }
});

/** "image, samples 0-6" for the first row (cell 0 is the image), "samples 7-14" after. */
function rowLabel(first: number, count: number): string {
  const from = Math.max(0, first - 1);
  const to = first + count - 2;
  return `${first === 0 ? 'image, ' : ''}samples ${from}-${to}`; // the bitmap font is ASCII only
}
