import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { writeFileAtomic } from '@probunet/core/node';
import { CITYSCAPES_EVAL_CLASSES } from '@probunet/datasets';
import { evaluateSampler, evaluationFromJSON, evaluationToJSON, mergeEvaluations, type Evaluation, type EvaluationOptions } from '@probunet/evaluation';
import { COMMON_OPTIONS, UsageError, defineCommand } from '../cli-errors.js';
import { DATA_OPTIONS, DATA_SOURCES, SPLITS, dataSourceOptions, openDataSource } from '../dataset-source.js';
import { CITYSCAPES_CLASSES, calibrationFigure, gedVersusSamplesFigure, modeFrequencyFigure, sampleGridFigure, writeFigure, type SampleGridRow } from '../figures/evaluation-figures.js';
import { loadModelCheckpoint, mustExist } from '../model-inputs.js';
import { choiceOption, integerOption, requiredOption } from '../option-values.js';
import { createOutputFolder } from '../output-folder.js';

export const EVAL_HELP = `probunet eval — score a checkpoint's samples on a dataset with the paper's protocol.

Usage: probunet eval --checkpoint CKPT --data SOURCE [--root DIR] --out DIR [options]

Draws the largest sample count per image once (its prefixes give the smaller counts) and writes
into DIR: results.json (@probunet/evaluation's result: per-image values, mean ± s.e. and median per
sample count, the protocol card); ged-vs-samples.svg/.png (per-image GED and the mean per sample
count); for data with flips (Cityscapes-like) calibration.svg/.png (flip fraction per class vs its
true probability); where modes are known mode-frequencies.svg/.png; and samples.png (the first
--grid images: the image, its graders, up to 8 samples). Any of the six model types.

Options:
  --checkpoint CKPT      a checkpoint written by probunet train (or saveCheckpoint)
  --data SOURCE          ${DATA_SOURCES.join(' | ')}
  --root DIR             the dataset folder (lidc, cityscapes) or .pickle file (lidc-pickle)
  --split NAME           ${SPLITS.join(' | ')} (default test)
  --limit N              the first N images only
  --size N, --count N    synthetic sources: image size (default 32) and number of images (default 32)
  --samples 1,4,8,16     sample counts (default 1,4,8,16)
  --convention NAME      lidc (an empty pair of masks has distance 0) | cityscapes (the authors'
                         Cityscapes code: 10 evaluated classes, empty pairs NaN); default: the dataset's
  --shard k/N            evaluate shard k of N (0-based); combine the parts with probunet merge
  --batch N              images per sampler call (default 1; samples depend on it)
  --seed N               seed of the samples (default 0)
  --grid N               images in samples.png (default 4; 0: no sample grid)
  --out DIR              output folder (refused if it exists, unless --force)
  --backend NAME         auto | native | wasm-native | wasm | cpu | webgpu (default auto)
  --json                 print the summary as JSON
  --verbose, --help

Examples:
  probunet eval --checkpoint runs/lidc/model.ckpt --data lidc --root ~/data/lidc --out runs/lidc/eval
  probunet eval --checkpoint runs/lidc/model.ckpt --data lidc --root ~/data/lidc --shard 0/4 --out part0
`;

export const MERGE_HELP = `probunet merge — join the shard results of probunet eval --shard k/N into one.

Usage: probunet merge PART/results.json... --out DIR [--force] [--json]

The merged result equals one unsharded run (same per-image values, same aggregates). Parts of
different protocols, missing or duplicated shards are refused, naming the problem. DIR gets
results.json and the figures that the results alone give: ged-vs-samples.svg/.png, and
calibration.svg/.png and mode-frequencies.svg/.png where the results have them (samples.png needs
the samples: see each part's own folder).

Example:
  probunet merge part0/results.json part1/results.json part2/results.json part3/results.json --out eval
`;

const OPTIONS = {
  checkpoint: { type: 'string' },
  ...DATA_OPTIONS,
  samples: { type: 'string' },
  convention: { type: 'string' },
  shard: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  grid: { type: 'string' },
  out: { type: 'string' },
  ...COMMON_OPTIONS,
} as const;

/** Samples per row of samples.png. */
const GRID_SAMPLES = 8;

const CONVENTIONS: Record<'lidc' | 'cityscapes', Pick<EvaluationOptions, 'emptyPair' | 'classes' | 'nanPairs'>> = {
  lidc: { emptyPair: 'one' },
  cityscapes: { emptyPair: 'nan', nanPairs: 'propagate', classes: [...CITYSCAPES_EVAL_CLASSES] },
};

function parseSampleCounts(text: string | undefined): number[] {
  if (text === undefined) return [1, 4, 8, 16];
  const counts = text.split(',').map((s) => Number(s.trim()));
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(`--samples takes positive integers separated by commas, e.g. 1,4,8,16; got "${text}"`);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard takes k/N with 0 ≤ k < N, e.g. 0/4; got "${text}"`);
  return { index, count };
}

/**
 * Writes results.json and the figures into a fresh folder; returns the summary. `grid` holds the
 * images for samples.png (eval); merge has none.
 */
async function writeResult(result: Evaluation, out: string, force: boolean, grid: { rows: SampleGridRow[]; numClasses: number; ignoreLabel: number } | undefined): Promise<{ dir: string; summary: Record<string, unknown> }> {
  const folder = await createOutputFolder(out, { option: '--out', replace: force ? 'force' : 'refuse' });
  try {
    await writeFileAtomic(join(folder.work, 'results.json'), evaluationToJSON(result));
    const { protocol, model } = result.card;
    const panels = [{ title: `${model.type} on ${protocol.dataset.name} (${protocol.dataset.split}, ${result.perImage.length} images)`, evaluation: result }];
    const files = ['results.json'];
    const add = async (name: string, figure: { svg?: string; png: Uint8Array } | undefined) => {
      if (figure) files.push(...(await writeFigure(folder.work, name, figure)).map((p) => basename(p)));
    };
    await add('ged-vs-samples', await gedVersusSamplesFigure(panels));
    await add('calibration', await calibrationFigure(panels));
    await add('mode-frequencies', await modeFrequencyFigure(panels));
    if (grid && grid.rows.length > 0) {
      const title = `${model.type}: ${protocol.dataset.name} images, their graders and ${Math.min(GRID_SAMPLES, protocol.sampleCounts.at(-1)!)} samples each`;
      // Data with the Cityscapes flips: its class names, in the colours of the images.
      const classes = result.card.protocol.conventions.flips ? { classes: CITYSCAPES_CLASSES } : {};
      await add('samples', await sampleGridFigure(grid.rows, { numClasses: grid.numClasses, ignoreLabel: grid.ignoreLabel, ...classes, title }));
    }
    await folder.commit();
    const summary = {
      out: folder.target,
      images: result.perImage.length,
      shard: result.card.shard ?? null,
      files,
      bySampleCount: result.bySampleCount.map((s) => ({ samples: s.samples, ...Object.fromEntries(Object.entries(s.metrics).map(([k, v]) => [k, v ? { mean: v.mean, standardError: v.standardError, nanCount: v.nanCount } : null])) })),
    };
    return { dir: folder.target, summary };
  } catch (err) {
    await folder.discard();
    throw err;
  }
}

function printSummary(summary: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const rows = summary.bySampleCount as Array<Record<string, { mean: number; standardError: number } | number | null>>;
  // '–' where a measure has no finite value (e.g. NCC with one sample, GED vs truth on real data).
  const fmt = (v: unknown) => {
    const s = v && typeof v === 'object' ? (v as { mean: number; standardError: number }) : null;
    if (!s || !Number.isFinite(s.mean)) return '–';
    return Number.isFinite(s.standardError) ? `${s.mean.toFixed(3)} ± ${s.standardError.toFixed(3)}` : s.mean.toFixed(3);
  };
  process.stdout.write(`${summary.images} images → ${summary.out} (${(summary.files as string[]).join(', ')})\n  samples  GED graders      GED truth        matched IoU      NCC\n`);
  for (const r of rows) process.stdout.write(`  ${String(r.samples).padStart(7)}  ${fmt(r.gedGraders).padEnd(16)} ${fmt(r.gedDistribution).padEnd(16)} ${fmt(r.matchedIoUGraders).padEnd(16)} ${fmt(r.ncc)}\n`);
}

export const evaluate = defineCommand('eval', EVAL_HELP, OPTIONS, async (values) => {
  const checkpoint = requiredOption('checkpoint', values.checkpoint, 'CKPT');
  const out = requiredOption('out', values.out, 'DIR');
  const sampleCounts = parseSampleCounts(values.samples);
  const shard = parseShard(values.shard);
  const convention = choiceOption('convention', values.convention, ['lidc', 'cityscapes'] as const);
  const batchSize = integerOption('batch', values.batch, 1) ?? 1;
  const seed = integerOption('seed', values.seed, 0) ?? 0;
  const gridImages = integerOption('grid', values.grid, 0) ?? 4;
  await mustExist(checkpoint, '--checkpoint');
  const dataOptions = dataSourceOptions(values, { split: 'test', size: 32, minSize: 4, count: 32, seed });
  const dataset = await openDataSource(dataOptions);
  const report = await initBackend((values.backend ?? 'auto') as BackendPreference);
  const { model } = await loadModelCheckpoint(checkpoint);
  try {
    let last = 0;
    // Only the first few images' samples are kept, for samples.png.
    const rows: SampleGridRow[] = [];
    const result = await evaluateSampler(model, dataset, {
      sampleCounts,
      seed,
      batchSize,
      split: dataOptions.split,
      ...(shard ? { shard } : {}),
      ...(convention ? CONVENTIONS[convention] : {}),
      onSamples: (example, samples) => {
        if (rows.length < gridImages) rows.push({ label: example.id, image: example, graders: example.annotations, samples: samples.slice(0, GRID_SAMPLES) });
      },
      onProgress: ({ done, total }) => {
        if (done === total || performance.now() - last > 1000) {
          last = performance.now();
          process.stderr.write(`eval  ${done}/${total} images  (${report.selected})\n`);
        }
      },
    });
    const grid = { rows, numClasses: dataset.spec.numClasses, ignoreLabel: result.card.protocol.conventions.ignoreLabel };
    const { summary } = await writeResult(result, out, values.force, grid);
    printSummary(summary, values.json);
    return 0;
  } finally {
    model.dispose();
  }
});

const MERGE_OPTIONS = { out: { type: 'string' }, ...COMMON_OPTIONS } as const;

export function merge(argv: string[]): Promise<number> {
  // Parts are positional: split them off before the strict option parser sees them.
  const parts = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1] === '--out') && !(i > 0 && argv[i - 1] === '--backend'));
  const options = argv.filter((a) => !parts.includes(a));
  return mergeWith(parts)(options);
}

const mergeWith = (parts: string[]) =>
  defineCommand('merge', MERGE_HELP, MERGE_OPTIONS, async (values) => {
    const out = requiredOption('out', values.out, 'DIR');
    if (parts.length === 0) throw new UsageError('give the shard results to merge: probunet merge part0/results.json part1/results.json … --out DIR');
    const results: Evaluation[] = [];
    for (const p of parts) {
      await mustExist(p, 'a part');
      try {
        results.push(evaluationFromJSON(await readFile(p, 'utf8')));
      } catch (err) {
        throw new UsageError(`${p} is not a probunet eval results.json: ${(err as Error).message}`);
      }
    }
    const { summary } = await writeResult(mergeEvaluations(results), out, values.force, undefined);
    printSummary(summary, values.json);
    return 0;
  });
