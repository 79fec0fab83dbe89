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

export interface FlipRecordOptions {
  /** Truth pixels with this label are skipped. */
  ignoreLabel?: number;
  /** A sample counts a class as flipped when more than this share of its pixels is `to`. Default 0.5. */
  modeThreshold?: number;
}

/**
 * What one image's samples did with each flippable class. Plain JSON, so that per-image records can
 * be stored, sharded and merged; `summarizeFlipCalibration` aggregates them.
 *
 * A mode key has one character per flip, in `flips` order: '1' flipped, '0' not, '-' the class is
 * absent from the image (it then has no flip to take).
 */
export interface ImageFlipRecord {
  /** Pixels of each flip's `from` class in the unflipped truth (0: absent), in `flips` order. */
  classPixels: number[];
  /** Of those pixels, summed over the samples, how many the samples labelled `to`. */
  flippedPixels: number[];
  /** Samples per flip combination, only the combinations taken, key order. Counts sum to the number of samples. */
  modes: Array<{ key: string; count: number }>;
}

/** Per flippable class, pixels pooled over the images that contain it (the flip's probability is conditional on presence). */
export interface ClassFlipFraction {
  name?: string;
  from: number;
  to: number;
  trueProbability: number;
  /** Images containing the class. */
  images: number;
  /** Pixels of the class summed over those images and over the samples (each sample sees them all). */
  truthPixels: number;
  flippedPixels: number;
  /** flippedPixels / truthPixels; NaN when no image contains the class. */
  fraction: number;
}

/** One flip combination of the images that contain every flippable class. */
export interface FullModeFrequency {
  key: string;
  /** Mean over those images of the share of the image's samples that took this combination. */
  sampledFrequency: number;
  /** Product over the flips of p or 1 − p. */
  trueProbability: number;
}

export interface FlipCalibration {
  flips: ClassFlipFraction[];
  /**
   * Per image (with at least one flippable class), the total-variation distance between the
   * samples' empirical distribution over the flip combinations of the classes present and the exact
   * conditional distribution; averaged over images.
   */
  totalVariation: {
    mean: number;
    /** Images averaged (those with at least one flippable class). */
    images: number;
    /** Images without any flippable class: their distribution is a point mass; left out. */
    imagesWithoutFlips: number;
    /**
     * The same mean for a perfect sampler: E[TV] of as many exact draws as each image had samples.
     * Few samples spread over many combinations cannot reach 0 (16 draws over 32 modes: ≈ 0.51).
     */
    floor: number;
  };
  /** Images containing every flippable class: the 2^F-mode table, sorted by true probability (most probable first). */
  fullModes: {
    images: number;
    modes: FullModeFrequency[];
    /** Pearson r of sampledFrequency vs trueProbability over the 2^F modes; NaN when undefined (no such image, or constant frequencies). */
    pearsonR: number;
    /** ½ Σ |sampledFrequency − trueProbability|: TV of the table. NaN when no image has every class. */
    totalVariation: number;
    /** E[TV] of the table for a perfect sampler with the same samples (exact when every image has the same count). */
    totalVariationFloor: number;
  };
}

/** Checks a flip table: integer class ids, distinct sources, probabilities in [0, 1]. */
export function checkFlips(flips: readonly FlipSpec[]): void {
  if (!Array.isArray(flips) || flips.length === 0) throw new MetricInputError('flips is empty: give at least one {from, to, probability}');
  if (flips.length > 20) throw new MetricInputError(`${flips.length} flips give 2^${flips.length} combinations: give at most 20`);
  const seen = new Set<number>();
  for (const f of flips) {
    if (!Number.isInteger(f.from) || !Number.isInteger(f.to) || f.from < 0 || f.to < 0) {
      throw new MetricInputError(`a flip needs non-negative integer class ids, got from ${f.from} to ${f.to}`);
    }
    if (seen.has(f.from)) throw new MetricInputError(`class ${f.from} is the source of two flips: give each class at most one flip`);
    seen.add(f.from);
    if (!(f.probability >= 0 && f.probability <= 1)) throw new MetricInputError(`flip ${f.from}→${f.to} has probability ${f.probability}, expected 0..1`);
  }
}

/** Flip combination keys in a fixed order: '0' before '1' in each present slot, absent slots '-'. */
export function flipModeKeys(present: readonly boolean[]): string[] {
  let keys = [''];
  for (const p of present) keys = p ? keys.flatMap((k) => [`${k}0`, `${k}1`]) : keys.map((k) => `${k}-`);
  return keys;
}

/** The exact probability of a combination given the classes present: product over the present flips of p or 1 − p. */
export function flipModeProbability(key: string, flips: readonly FlipSpec[]): number {
  if (key.length !== flips.length || !/^[01-]*$/.test(key)) {
    throw new MetricInputError(`mode key '${key}' needs one of '0', '1', '-' per flip (${flips.length})`);
  }
  let p = 1;
  for (let i = 0; i < flips.length; i++) {
    if (key[i] === '1') p *= flips[i]!.probability;
    else if (key[i] === '0') p *= 1 - flips[i]!.probability;
  }
  return p;
}

/** Records, for one image, each flip's pixel counts and which combination each sample took. Feed it the *unflipped* truth. */
export function recordImageFlips(samples: readonly LabelMap[], unflippedTruth: LabelMap, flips: readonly FlipSpec[], options: FlipRecordOptions = {}): ImageFlipRecord {
  checkFlips(flips);
  checkLabelMap(unflippedTruth, 'unflippedTruth');
  const pixels = checkSameSize(samples, 'samples');
  if (samples[0]!.height !== unflippedTruth.height || samples[0]!.width !== unflippedTruth.width) {
    throw new MetricInputError(`samples are ${samples[0]!.height}×${samples[0]!.width} but unflippedTruth is ${unflippedTruth.height}×${unflippedTruth.width}: give the truth of the same image`);
  }
  const threshold = options.modeThreshold ?? 0.5;
  if (!(threshold >= 0 && threshold < 1)) throw new MetricInputError(`modeThreshold ${threshold} must lie in [0, 1)`);
  const slot = new Map(flips.map((f, i) => [f.from, i]));
  const t = unflippedTruth.data;
  const classPixels = flips.map(() => 0);
  for (let p = 0; p < pixels; p++) {
    const tv = t[p]!;
    if (tv === options.ignoreLabel) continue;
    const s = slot.get(tv);
    if (s !== undefined) classPixels[s]!++;
  }
  const flippedPixels = flips.map(() => 0);
  const counts = new Map<string, number>();
  for (const sample of samples) {
    const here = flips.map(() => 0);
    const d = sample.data;
    for (let p = 0; p < pixels; p++) {
      const tv = t[p]!;
      if (tv === options.ignoreLabel) continue;
      const s = slot.get(tv);
      if (s !== undefined && d[p] === flips[s]!.to) here[s]!++;
    }
    let key = '';
    for (let i = 0; i < flips.length; i++) {
      flippedPixels[i]! += here[i]!;
      key += classPixels[i] === 0 ? '-' : here[i]! / classPixels[i]! > threshold ? '1' : '0';
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const modes = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([key, count]) => ({ key, count }));
  return { classPixels, flippedPixels, modes };
}

function checkRecord(r: ImageFlipRecord, k: number, at: number): { present: boolean[]; samples: number } {
  if (!r || !Array.isArray(r.classPixels) || !Array.isArray(r.flippedPixels) || !Array.isArray(r.modes)) {
    throw new MetricInputError(`records[${at}] is not an ImageFlipRecord {classPixels, flippedPixels, modes}: build it with recordImageFlips`);
  }
  if (r.classPixels.length !== k || r.flippedPixels.length !== k) {
    throw new MetricInputError(`records[${at}] has ${r.classPixels.length} classes but there are ${k} flips: record and summarize with the same flips`);
  }
  const present = r.classPixels.map((c) => c > 0);
  let samples = 0;
  for (const m of r.modes) {
    const ok = typeof m.key === 'string' && m.key.length === k && [...m.key].every((ch, i) => (present[i] ? ch === '0' || ch === '1' : ch === '-'));
    if (!ok) throw new MetricInputError(`records[${at}] has mode key '${m.key}', which does not match its classes present (${present.map((p) => (p ? 'x' : '-')).join('')})`);
    if (!Number.isInteger(m.count) || m.count < 1) throw new MetricInputError(`records[${at}] mode '${m.key}' has count ${m.count}, expected a positive integer`);
    samples += m.count;
  }
  if (samples === 0) throw new MetricInputError(`records[${at}] has no samples`);
  return { present, samples };
}

/** Pearson correlation; NaN when fewer than 2 values or either side is constant (undefined, never silently 0). */
export function pearsonCorrelation(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new MetricInputError(`pearsonCorrelation needs equal lengths, got ${x.length} and ${y.length}`);
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** E|X/n − p| for X ~ Binomial(n, p), summed in log space (no overflow for large n). */
function binomialMeanAbsoluteDeviation(n: number, p: number): number {
  if (p <= 0 || p >= 1) return 0;
  const logFact = [0];
  for (let i = 1; i <= n; i++) logFact.push(logFact[i - 1]! + Math.log(i));
  const [lp, lq] = [Math.log(p), Math.log1p(-p)];
  let e = 0;
  for (let x = 0; x <= n; x++) e += Math.exp(logFact[n]! - logFact[x]! - logFact[n - x]! + x * lp + (n - x) * lq) * Math.abs(x / n - p);
  return e;
}

/** E[TV] between the empirical distribution of n exact draws and the distribution `probabilities` itself: ½ Σ_k E|X_k/n − p_k|. */
export function expectedTotalVariation(n: number, probabilities: readonly number[]): number {
  if (!Number.isInteger(n) || n < 1) throw new MetricInputError(`expectedTotalVariation needs a positive integer number of draws, got ${n}`);
  return 0.5 * probabilities.reduce((s, p) => s + binomialMeanAbsoluteDeviation(n, p), 0);
}

function classFractions(records: readonly ImageFlipRecord[], flips: readonly FlipSpec[]): ClassFlipFraction[] {
  return flips.map((f, i) => {
    let images = 0;
    let truthPixels = 0;
    let flippedPixels = 0;
    for (const r of records) {
      if (r.classPixels[i] === 0) continue;
      const samples = r.modes.reduce((s, m) => s + m.count, 0);
      images++;
      truthPixels += r.classPixels[i]! * samples;
      flippedPixels += r.flippedPixels[i]!;
    }
    return { ...(f.name === undefined ? {} : { name: f.name }), from: f.from, to: f.to, trueProbability: f.probability, images, truthPixels, flippedPixels, fraction: images === 0 ? NaN : flippedPixels / truthPixels };
  });
}

/**
 * The calibration of a sampler's flips, from per-image records (`recordImageFlips`), in record order:
 * per-class flip fractions conditioned on presence, the mean per-image total-variation distance to
 * the exact conditional distribution (with the floor a perfect sampler reaches), and, over the
 * images that contain every class, the 2^F-mode table with its Pearson r.
 */
export function summarizeFlipCalibration(records: readonly ImageFlipRecord[], flips: readonly FlipSpec[]): FlipCalibration {
  checkFlips(flips);
  const k = flips.length;
  const checked = records.map((r, i) => checkRecord(r, k, i));
  let tvSum = 0;
  let floorSum = 0;
  let tvImages = 0;
  const fullKeys = flipModeKeys(flips.map(() => true));
  const fullTruth = fullKeys.map((key) => flipModeProbability(key, flips));
  const fullSum = fullKeys.map(() => 0);
  let fullImages = 0;
  let fullSamples = 0;
  records.forEach((r, i) => {
    const { present, samples } = checked[i]!;
    if (!present.some(Boolean)) return;
    const counts = new Map(r.modes.map((m) => [m.key, m.count]));
    const keys = flipModeKeys(present);
    const truth = keys.map((key) => flipModeProbability(key, flips));
    let tv = 0;
    keys.forEach((key, j) => (tv += Math.abs((counts.get(key) ?? 0) / samples - truth[j]!)));
    tvSum += tv / 2;
    floorSum += expectedTotalVariation(samples, truth);
    tvImages++;
    if (present.every(Boolean)) {
      fullKeys.forEach((key, j) => (fullSum[j]! += (counts.get(key) ?? 0) / samples));
      fullImages++;
      fullSamples += samples;
    }
  });
  const modes = fullKeys
    .map((key, j) => ({ key, sampledFrequency: fullImages === 0 ? NaN : fullSum[j]! / fullImages, trueProbability: fullTruth[j]! }))
    .sort((a, b) => b.trueProbability - a.trueProbability || (a.key < b.key ? -1 : 1));
  const tableTv = fullImages === 0 ? NaN : modes.reduce((s, m) => s + Math.abs(m.sampledFrequency - m.trueProbability), 0) / 2;
  return {
    flips: classFractions(records, flips),
    totalVariation: { mean: tvImages === 0 ? NaN : tvSum / tvImages, images: tvImages, imagesWithoutFlips: records.length - tvImages, floor: tvImages === 0 ? NaN : floorSum / tvImages },
    fullModes: {
      images: fullImages,
      modes,
      pearsonR: fullImages === 0 ? NaN : pearsonCorrelation(modes.map((m) => m.sampledFrequency), modes.map((m) => m.trueProbability)),
      totalVariation: tableTv,
      totalVariationFloor: fullImages === 0 ? NaN : expectedTotalVariation(fullSamples, fullTruth),
    },
  };
}
