import { checkLabelMap, checkSameSize, MetricInputError, type LabelMap } from './label-map.js';

/** One stochastic class flip: pixels of `from` become `to` with `probability` (per image). */
export interface FlipSpec {
  /** What the class is (e.g. 'sidewalk'); for reports. */
  name?: string;
  from: number;
  to: number;
  probability: number;
}

/**
 * The five Cityscapes flips of the paper (trainIds): sidewalk, person, car, vegetation, road. The one
 * table every package uses (@probunet/datasets draws its synthetic and real flips from it).
 */
export const CITYSCAPES_FLIPS: readonly FlipSpec[] = [
  { name: 'sidewalk', from: 1, to: 19, probability: 8 / 17 },
  { name: 'person', from: 11, to: 20, probability: 7 / 17 },
  { name: 'car', from: 13, to: 21, probability: 6 / 17 },
  { name: 'vegetation', from: 8, to: 22, probability: 5 / 17 },
  { name: 'road', from: 0, to: 23, probability: 4 / 17 },
];

export interface FlipCounts {
  from: number;
  to: number;
  trueProbability: number;
  /** Pixels of `from` in the unflipped truth, summed over samples (each sample sees them all). */
  truthPixels: number;
  /** Of those, how many the samples labelled `to`. */
  flippedPixels: number;
  /** flippedPixels / truthPixels; NaN when the class never occurs. */
  fraction: number;
}

export interface ModeFrequency {
  /** One character per flip in `flips` order: '1' flipped, '0' not, '-' class absent from the image. */
  key: string;
  count: number;
  frequency: number;
  /** Product over present classes of p or 1 − p. */
  trueProbability: number;
}

export interface CalibrationOptions {
  ignoreLabel?: number;
  /** A sample counts a class as flipped when more than this share of its pixels is `to`. Default 0.5. */
  modeThreshold?: number;
}

function checkFlips(flips: readonly FlipSpec[]): void {
  if (flips.length === 0) throw new MetricInputError('flips is empty: give at least one {from, to, probability}');
  for (const f of flips) {
    if (!Number.isInteger(f.from) || !Number.isInteger(f.to) || f.from < 0 || f.to < 0) {
      throw new MetricInputError(`a flip needs integer class ids, got from ${f.from} to ${f.to}`);
    }
    if (!(f.probability >= 0 && f.probability <= 1)) throw new MetricInputError(`flip ${f.from}→${f.to} has probability ${f.probability}, expected 0..1`);
  }
}

/**
 * Adds up, image by image, how often samples assign each flippable class its flipped label, and
 * how often each whole-image flip combination (mode) occurs, against the true probabilities.
 * Feed it the *unflipped* truth of each image.
 */
export class CalibrationAccumulator {
  private readonly flips: readonly FlipSpec[];
  private readonly threshold: number;
  private readonly ignoreLabel: number | undefined;
  private readonly truthPixels: number[];
  private readonly flippedPixels: number[];
  private readonly modes = new Map<string, { count: number; trueProbability: number }>();
  private samplesSeen = 0;

  constructor(flips: readonly FlipSpec[], options: CalibrationOptions = {}) {
    checkFlips(flips);
    this.flips = flips.map((f) => ({ ...f }));
    this.threshold = options.modeThreshold ?? 0.5;
    this.ignoreLabel = options.ignoreLabel;
    this.truthPixels = flips.map(() => 0);
    this.flippedPixels = flips.map(() => 0);
  }

  add(samples: LabelMap[], unflippedTruth: LabelMap): void {
    checkLabelMap(unflippedTruth, 'unflippedTruth');
    const pixels = checkSameSize(samples, 'samples');
    if (samples[0]!.height !== unflippedTruth.height || samples[0]!.width !== unflippedTruth.width) {
      throw new MetricInputError('samples and unflippedTruth differ in size');
    }
    const fromSlot = new Map(this.flips.map((f, i) => [f.from, i]));
    const classPixels = this.flips.map(() => 0);
    const t = unflippedTruth.data;
    for (let p = 0; p < pixels; p++) {
      const s = fromSlot.get(t[p]!);
      if (s !== undefined) classPixels[s]!++;
    }
    for (const sample of samples) {
      const flippedHere = this.flips.map(() => 0);
      const d = sample.data;
      for (let p = 0; p < pixels; p++) {
        const tv = t[p]!;
        if (tv === this.ignoreLabel) continue;
        const s = fromSlot.get(tv);
        if (s !== undefined && d[p] === this.flips[s]!.to) flippedHere[s]!++;
      }
      let key = '';
      let prob = 1;
      this.flips.forEach((f, i) => {
        this.truthPixels[i]! += classPixels[i]!;
        this.flippedPixels[i]! += flippedHere[i]!;
        if (classPixels[i] === 0) {
          key += '-';
          return;
        }
        const flipped = flippedHere[i]! / classPixels[i]! > this.threshold;
        key += flipped ? '1' : '0';
        prob *= flipped ? f.probability : 1 - f.probability;
      });
      const entry = this.modes.get(key) ?? { count: 0, trueProbability: prob };
      entry.count++;
      this.modes.set(key, entry);
      this.samplesSeen++;
    }
  }

  flipCounts(): FlipCounts[] {
    return this.flips.map((f, i) => ({
      from: f.from,
      to: f.to,
      trueProbability: f.probability,
      truthPixels: this.truthPixels[i]!,
      flippedPixels: this.flippedPixels[i]!,
      fraction: this.truthPixels[i] === 0 ? NaN : this.flippedPixels[i]! / this.truthPixels[i]!,
    }));
  }

  /** Mode frequencies among all samples seen, most frequent first. */
  modeFrequencies(): ModeFrequency[] {
    return [...this.modes.entries()]
      .map(([key, { count, trueProbability }]) => ({ key, count, frequency: count / this.samplesSeen, trueProbability }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  }
}

/** Per-flip pixel fractions for one image's samples (see CalibrationAccumulator). */
export function flipCalibration(samples: LabelMap[], unflippedTruth: LabelMap, flips: readonly FlipSpec[], options: CalibrationOptions = {}): FlipCounts[] {
  const acc = new CalibrationAccumulator(flips, options);
  acc.add(samples, unflippedTruth);
  return acc.flipCounts();
}
