import { indexedDataset, type Example, type IndexedDataset, type Mode } from '../example.js';
import { SeededRandom } from '@probunet/core/random';
import { checkImplausibleOption, complementBinary, implausibleGraderOf, rollLabels, type ImplausibleKind } from './implausible-grader.js';

export interface LesionMode {
  name: string;
  /** Radius of the true lesion as a multiple of the image's blob radius; 0 means no lesion (empty mask). */
  scale: number;
  probability: number;
}

/** Default: LIDC-like disagreement on extent, with a share of graders seeing no lesion at all. */
export const DEFAULT_LESION_MODES: readonly LesionMode[] = [
  { name: 'empty', scale: 0, probability: 0.25 },
  { name: 'small', scale: 0.6, probability: 0.25 },
  { name: 'medium', scale: 1.0, probability: 0.3 },
  { name: 'large', scale: 1.45, probability: 0.2 },
];

export interface SyntheticLidcOptions {
  /** Number of images. Default 1000. */
  count?: number;
  /** Square image side, 32–256. Default 64. */
  size?: number;
  /** Annotations per image, each drawn independently from the true distribution. Default 4. */
  graders?: number;
  seed?: number;
  modes?: readonly LesionMode[];
  /** Peak intensity of the blob over the background. Default 0.6. */
  contrast?: number;
  /** Standard deviation of the Gaussian background noise. Default 0.25. */
  noise?: number;
  /**
   * Replace one grader's annotation per image by an implausible one, for testing annotation
   * assessment: `'shifted'` (the largest lesion moved by half the image each way, where the image
   * shows no blob) or `'inverted'` (the largest lesion's complement). Which grader is drawn per
   * image and recorded in `meta.implausibleGrader` (its `meta.graderModes` entry reads
   * `implausible-<kind>`); the image and every other annotation are those of the option off.
   * Needs graders ≥ 2 and a mode with a lesion. Default off.
   */
  implausibleGrader?: ImplausibleKind;
}

/**
 * A LIDC-like task with a known answer: a faint blob in noise whose true segmentation is a disc of
 * one of K radii (or nothing), with known probabilities. The image shows where the blob is, not
 * which extent a grader would draw, so the ambiguity is real and its distribution exact.
 * Every example carries `distribution` (each mode with its probability). Binary labels: 1 = lesion.
 */
export function createSyntheticLidc(options: SyntheticLidcOptions = {}): IndexedDataset {
  const count = options.count ?? 1000;
  const size = options.size ?? 64;
  const graders = options.graders ?? 4;
  const seed = options.seed ?? 0;
  const modes = options.modes ?? DEFAULT_LESION_MODES;
  const contrast = options.contrast ?? 0.6;
  const noise = options.noise ?? 0.25;
  if (!Number.isInteger(size) || size < 32 || size > 256) throw new RangeError(`size must be an integer in 32..256, got ${size}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(graders) || graders < 1) throw new RangeError(`graders must be a positive integer, got ${graders}`);
  const total = modes.reduce((a, m) => a + m.probability, 0);
  if (modes.length === 0 || Math.abs(total - 1) > 1e-9 || modes.some((m) => !(m.probability >= 0) || !(m.scale >= 0))) {
    throw new RangeError(`modes need scales ≥ 0 and probabilities ≥ 0 that sum to 1 (they sum to ${total})`);
  }
  const implausible = checkImplausibleOption(options.implausibleGrader, graders);
  const largest = modes.reduce((best, m, k) => (m.scale > modes[best]!.scale ? k : best), 0);
  if (implausible && !(modes[largest]!.scale > 0)) throw new RangeError('implausibleGrader needs a mode with a lesion (scale > 0) to shift or invert');
  const spec = { channels: 1, numClasses: 2, ignoreLabel: 255, evalClasses: [1], emptyPair: 'one' as const };

  const make = async (index: number): Promise<Example> => {
    const rng = SeededRandom.derive(seed, 1, index);
    const radius = size * rng.uniform(0.08, 0.15);
    const cy = size / 2 + rng.uniform(-0.15, 0.15) * size;
    const cx = size / 2 + rng.uniform(-0.15, 0.15) * size;
    const image = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const r2 = ((y + 0.5 - cy) ** 2 + (x + 0.5 - cx) ** 2) / (radius * radius);
        image[y * size + x] = contrast * Math.exp(-r2) + noise * rng.normal();
      }
    }
    const distribution: Mode[] = modes.map((m) => ({
      name: m.name,
      probability: m.probability,
      labels: disc(size, cy, cx, radius * m.scale),
    }));
    const picks = Array.from({ length: graders }, () => rng.categorical(modes.map((m) => m.probability)));
    const annotations = picks.map((k) => distribution[k]!.labels);
    const graderModes = picks.map((k) => modes[k]!.name);
    const meta: Record<string, unknown> = { source: 'synthetic-lidc', graderModes, radius, center: [cy, cx] };
    if (implausible) {
      const g = implausibleGraderOf(seed, 1, index, graders);
      const lesion = distribution[largest]!.labels;
      annotations[g] = implausible === 'shifted' ? rollLabels(lesion, size, size, size >> 1, size >> 1) : complementBinary(lesion);
      graderModes[g] = `implausible-${implausible}`;
      meta.implausibleGrader = g;
    }
    return { id: `synthetic-lidc-${seed}-${index}`, height: size, width: size, channels: 1, image, annotations, distribution, meta };
  };
  return indexedDataset(`synthetic-lidc(size=${size}, seed=${seed})`, count, spec, make);
}

function disc(size: number, cy: number, cx: number, r: number): Uint8Array {
  const out = new Uint8Array(size * size);
  if (r <= 0) return out;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if ((y + 0.5 - cy) ** 2 + (x + 0.5 - cx) ** 2 < r * r) out[y * size + x] = 1;
  }
  return out;
}
