import { checkSameSize, MetricInputError, type LabelMap } from './label-map.js';

/**
 * Per-pixel class probabilities of one sample (e.g. a softmax): `data[(y * width + x) * channels + c]`
 * is the probability of class c at pixel (x, y), class fastest.
 */
export interface ProbabilityMap {
  data: ArrayLike<number>;
  height: number;
  width: number;
  channels: number;
}

/** Samples as label maps (read as one-hot) or as per-sample class probabilities. */
export type SampleSet = readonly LabelMap[] | readonly ProbabilityMap[];

export function isProbabilityMap(x: LabelMap | ProbabilityMap): x is ProbabilityMap {
  return typeof (x as ProbabilityMap).channels === 'number';
}

export function checkNumClasses(numClasses: unknown): number {
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1) {
    throw new MetricInputError(`numClasses must be a positive integer, got ${String(numClasses)}`);
  }
  return numClasses as number;
}

/**
 * Checks samples (all label maps or all probability maps, one size, labels below numClasses,
 * `channels === numClasses`) and returns the number of pixels and which form they are.
 */
export function checkSamples(samples: SampleSet, numClasses: number, what = 'samples'): { pixels: number; probabilities: boolean } {
  if (!Array.isArray(samples) || samples.length === 0) throw new MetricInputError(`${what} is empty: give at least one sample`);
  const first = samples[0]!;
  const probabilities = isProbabilityMap(first);
  if (!probabilities) return { pixels: checkSameSize(samples as readonly LabelMap[], what), probabilities };
  const { height, width } = first;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new MetricInputError(`${what}[0] has size ${height}×${width}; height and width must be positive integers`);
  }
  const pixels = height * width;
  samples.forEach((s: LabelMap | ProbabilityMap, i) => {
    if (!isProbabilityMap(s)) throw new MetricInputError(`${what} mixes probability maps and label maps (${what}[${i}]): give one kind`);
    if (s.height !== height || s.width !== width) throw new MetricInputError(`${what}[${i}] is ${sizeOf(s)} but ${what}[0] is ${sizeOf(first)}: all maps must share one size`);
    if (s.channels !== numClasses) throw new MetricInputError(`${what}[${i}] has ${s.channels} channels but numClasses is ${numClasses}`);
    if (!s.data || s.data.length !== pixels * numClasses) {
      throw new MetricInputError(`${what}[${i}] has ${s.data?.length} values but ${height}×${width}×${numClasses} needs ${pixels * numClasses}`);
    }
  });
  return { pixels, probabilities };
}

export function sizeOf(map: LabelMap | ProbabilityMap): string {
  return `${map.height}×${map.width}`;
}

/**
 * Fills `out[c]` with the mean over samples of p_i(c) at pixel p (one-hot for label maps).
 * A label outside [0, numClasses) is an error.
 */
export function meanAtPixel(samples: SampleSet, probabilities: boolean, p: number, numClasses: number, out: Float64Array): void {
  out.fill(0);
  const n = samples.length;
  if (probabilities) {
    for (const s of samples as readonly ProbabilityMap[]) {
      const d = s.data;
      const base = p * numClasses;
      for (let c = 0; c < numClasses; c++) out[c]! += d[base + c]!;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = (samples[i] as LabelMap).data[p]!;
      if (!(v >= 0 && v < numClasses && Number.isInteger(v))) {
        throw new MetricInputError(`samples[${i}] has the label ${v} at pixel ${p}; labels must be integers in [0, ${numClasses})`);
      }
      out[v]! += 1;
    }
  }
  for (let c = 0; c < numClasses; c++) out[c]! /= n;
}

/** Pixels carrying `ignoreLabel` in any truth, as a byte mask (1 = ignored); undefined when none. */
export function truthIgnoreMask(truths: readonly LabelMap[], ignoreLabel: number | undefined, pixels: number): Uint8Array | undefined {
  if (ignoreLabel === undefined) return undefined;
  const mask = new Uint8Array(pixels);
  let any = false;
  for (const t of truths) {
    for (let p = 0; p < pixels; p++) {
      if (t.data[p] === ignoreLabel) {
        mask[p] = 1;
        any = true;
      }
    }
  }
  return any ? mask : undefined;
}

/** Truths must match the samples' size. */
export function checkTruths(truths: readonly LabelMap[], samples: SampleSet): void {
  checkSameSize(truths, 'truths');
  const s = samples[0]!;
  const t = truths[0]!;
  if (s.height !== t.height || s.width !== t.width) throw new MetricInputError(`samples are ${sizeOf(s)} but truths are ${sizeOf(t)}: they must share one size`);
}

/** Per pixel and class, the fraction of label-map samples with that label (class fastest); labels checked. */
export function classFrequencies(samples: readonly LabelMap[], pixels: number, numClasses: number): Float64Array {
  const out = new Float64Array(pixels * numClasses);
  samples.forEach((s, i) => {
    const d = s.data;
    const integers = d instanceof Uint8Array || d instanceof Int32Array || d instanceof Uint16Array || d instanceof Int16Array || d instanceof Uint8ClampedArray;
    for (let p = 0; p < pixels; p++) {
      const v = d[p]!;
      if (!(v >= 0 && v < numClasses && (integers || Number.isInteger(v)))) {
        throw new MetricInputError(`samples[${i}] has the label ${v} at pixel ${p}; labels must be integers in [0, ${numClasses})`);
      }
      out[p * numClasses + v]! += 1;
    }
  });
  for (let q = 0; q < out.length; q++) out[q]! /= samples.length;
  return out;
}

/** Per pixel and class, the mean probability over probability-map samples (class fastest). */
export function meanProbabilities(samples: readonly ProbabilityMap[], pixels: number, numClasses: number): Float64Array {
  const out = new Float64Array(pixels * numClasses);
  for (const s of samples) for (let q = 0; q < out.length; q++) out[q]! += s.data[q]!;
  for (let q = 0; q < out.length; q++) out[q]! /= samples.length;
  return out;
}
