import { checkNumClasses, checkSamples, meanAtPixel, type SampleSet } from './probability-map.js';

export interface UncertaintyMapsOptions {
  numClasses: number;
}

/** Per-pixel uncertainty of a set of samples; maps are row-major height × width. */
export interface UncertaintyMaps {
  height: number;
  width: number;
  numClasses: number;
  /** Mean over samples of each class's probability (the class frequency for label maps), class fastest. */
  frequencies: Float32Array;
  /** Predictive entropy H[E_i p_i] in nats. */
  entropy: Float32Array;
  /** E_i H[p_i] in nats; only for probability samples (one-hot samples have none). */
  expectedEntropy?: Float32Array;
  /** entropy − expectedEntropy ≥ 0 (the epistemic part); only for probability samples. */
  mutualInformation?: Float32Array;
}

const xlogx = (x: number) => (x > 0 ? x * Math.log(x) : 0);

/** Class frequencies, predictive entropy and, for probability samples, expected entropy and mutual information. */
export function uncertaintyMaps(samples: SampleSet, opts: UncertaintyMapsOptions): UncertaintyMaps {
  const numClasses = checkNumClasses(opts?.numClasses);
  const { pixels, probabilities } = checkSamples(samples, numClasses);
  const { height, width } = samples[0]!;
  const frequencies = new Float32Array(pixels * numClasses);
  const entropy = new Float32Array(pixels);
  const expectedEntropy = probabilities ? new Float32Array(pixels) : undefined;
  const mutualInformation = probabilities ? new Float32Array(pixels) : undefined;
  const mean = new Float64Array(numClasses);
  for (let p = 0; p < pixels; p++) {
    meanAtPixel(samples, probabilities, p, numClasses, mean);
    let h = 0;
    for (let c = 0; c < numClasses; c++) {
      frequencies[p * numClasses + c] = mean[c]!;
      h -= xlogx(mean[c]!);
    }
    entropy[p] = h;
    if (expectedEntropy && mutualInformation) {
      let e = 0;
      for (const s of samples) for (let c = 0; c < numClasses; c++) e -= xlogx(s.data[p * numClasses + c]!);
      e /= samples.length;
      expectedEntropy[p] = e;
      // Jensen: H is concave, so h ≥ e; clamp the rounding.
      mutualInformation[p] = Math.max(0, h - e);
    }
  }
  return {
    height,
    width,
    numClasses,
    frequencies,
    entropy,
    ...(expectedEntropy ? { expectedEntropy } : {}),
    ...(mutualInformation ? { mutualInformation } : {}),
  };
}
