/**
 * Recomputes the cityscapes-like flip calibration of a committed `probunet reproduce` results.json
 * with the measure of issue 27 (`summarizeFlipCalibration`'s 32-mode table), and redraws its
 * calibration and mode-frequency figures, into `<folder>/recomputed/`.
 *
 * What results.json holds is enough for the table but not for the per-image TV: it keeps, per model,
 * the sample counts of every flip combination pooled over the images (keys with '-' for an absent
 * class). The images with every class are those whose keys have no '-'; each had the same number of
 * samples (the largest sample count), so the mean over them of each image's share of a combination
 * is the pooled count / (images × samples): exact. The per-image TV needs each image's own counts
 * (results.json has no per-image records), so it is left NaN here: a rerun records it.
 *
 * Run from the repository root:
 *   npx tsx --conditions @probunet/source docs/results/recompute-flip-calibration.mts docs/results/cityscapes-like
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { flipModeKeys, flipModeProbability, pearsonCorrelation, expectedTotalVariation, type FlipCalibration, type FlipSpec } from '@probunet/metrics';
import type { Evaluation } from '@probunet/evaluation';
import { calibrationFigure, modeFrequencyFigure } from '../../apps/cli/src/figures/evaluation-figures.js';

/** Written beside, then renamed over: a reader never sees half a file. */
async function writeFileAtomic(path: string, bytes: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp-${process.pid}`, bytes);
  await rename(`${path}.tmp-${process.pid}`, path);
}

interface OldFlips {
  flips: Array<{ from: number; to: number; trueProbability: number; truthPixels: number; flippedPixels: number; fraction: number | null }>;
  modes: Array<{ key: string; count: number }>;
}

const folder = process.argv[2];
if (!folder) throw new Error('give the results folder, e.g. docs/results/cityscapes-like');
const results = JSON.parse(await readFile(join(folder, 'results.json'), 'utf8'));
const samples: number = results.plan.evaluation.sampleCounts.at(-1);
const lines = [
  `# Flip calibration of ${folder}/results.json, recomputed (issue 27 measure)`,
  '',
  `Written by \`npx tsx --conditions @probunet/source docs/results/recompute-flip-calibration.mts ${folder}\` from the committed results.json (run ${results.header.started}); the 32-mode table is exact (${samples} samples on every image), the per-image TV needs a rerun.`,
  '',
  '| model | images with all 5 classes | Pearson r (32 modes) | TV of the table | a perfect sampler\'s TV | worst class miss |',
  '|---|---|---|---|---|---|',
];
const panels: Array<{ title: string; evaluation: Evaluation }> = [];
for (const m of results.models) {
  const old = m.evaluation.flipCalibration as OldFlips | null;
  if (!old) continue;
  const named = (m.evaluation.card.protocol.conventions.flips ?? []) as FlipSpec[];
  const flips: FlipSpec[] = old.flips.map((f, i) => ({ ...(named[i]?.name ? { name: named[i]!.name } : {}), from: f.from, to: f.to, probability: f.trueProbability }));
  const full = old.modes.filter((md) => !md.key.includes('-'));
  const total = full.reduce((s, md) => s + md.count, 0);
  if (total % samples !== 0) throw new Error(`${m.type}: ${total} samples on full images is not a multiple of ${samples}`);
  const images = total / samples;
  const counts = new Map(full.map((md) => [md.key, md.count]));
  const modes = flipModeKeys(flips.map(() => true))
    .map((key) => ({ key, sampledFrequency: images === 0 ? NaN : (counts.get(key) ?? 0) / total, trueProbability: flipModeProbability(key, flips) }))
    .sort((a, b) => b.trueProbability - a.trueProbability || (a.key < b.key ? -1 : 1));
  const calibration: FlipCalibration = {
    flips: old.flips.map((f, i) => ({ ...(flips[i]!.name ? { name: flips[i]!.name } : {}), from: f.from, to: f.to, trueProbability: f.trueProbability, images: NaN, truthPixels: f.truthPixels, flippedPixels: f.flippedPixels, fraction: f.fraction ?? NaN })),
    totalVariation: { mean: NaN, images: NaN, imagesWithoutFlips: NaN, floor: NaN },
    fullModes: {
      images,
      modes,
      pearsonR: pearsonCorrelation(modes.map((x) => x.sampledFrequency), modes.map((x) => x.trueProbability)),
      totalVariation: modes.reduce((s, x) => s + Math.abs(x.sampledFrequency - x.trueProbability), 0) / 2,
      totalVariationFloor: expectedTotalVariation(total, modes.map((x) => x.trueProbability)),
    },
  };
  const worst = calibration.flips.reduce((w, f) => Math.max(w, Math.abs(f.fraction - f.trueProbability)), 0);
  const t = calibration.fullModes;
  lines.push(`| ${m.type} | ${images} | ${Number.isNaN(t.pearsonR) ? 'undefined' : t.pearsonR.toFixed(3)} | ${t.totalVariation.toFixed(3)} | ${t.totalVariationFloor.toFixed(3)} | ${worst.toFixed(3)} |`);
  panels.push({ title: m.type, evaluation: { flipCalibration: calibration, modeShares: null } as unknown as Evaluation });
}
const out = join(folder, 'recomputed');
await mkdir(out, { recursive: true });
const figures: string[] = [];
for (const [name, fig] of [
  ['mode-frequencies', await modeFrequencyFigure(panels)],
  ['calibration', await calibrationFigure(panels.filter((p) => p.title !== 'deterministic-unet'))],
] as const) {
  if (!fig) continue;
  await writeFileAtomic(join(out, `${name}.svg`), fig.svg);
  await writeFileAtomic(join(out, `${name}.png`), fig.png);
  figures.push(`${name}.svg`, `${name}.png`);
}
lines.push('', 'Figures (all models, the deterministic U-Net included in the mode table as the never-flipping reference):', '', ...figures.map((f) => `- \`${f}\``), '');
await writeFileAtomic(join(out, 'flip-calibration.md'), lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\n`);
