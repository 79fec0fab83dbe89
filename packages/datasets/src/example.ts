/** One mode of a known segmentation distribution. */
export interface Mode {
  /** Row-major labels, height × width. */
  labels: Uint8Array;
  probability: number;
  /** What this mode is, e.g. "large" or a flip combination "10010". */
  name: string;
}

/**
 * One image with its annotations. Images are row-major float32 height × width × channels (NHWC
 * without the batch axis); annotations are row-major label maps of the same height and width.
 */
export interface Example {
  id: string;
  height: number;
  width: number;
  channels: number;
  image: Float32Array;
  /** One label map per grader (LIDC: 4; Cityscapes: 1 flipped draw). */
  annotations: Uint8Array[];
  /** The exact distribution the annotations were drawn from, when it is known (synthetic data). */
  distribution?: Mode[];
  meta: Record<string, unknown>;
}

/** An async-iterable collection of examples with a known length. */
export interface Dataset {
  readonly name: string;
  readonly length: number;
  /** Numbers the model needs to know: input channels, classes, ignore label. */
  readonly spec: DatasetSpec;
  [Symbol.asyncIterator](): AsyncIterator<Example>;
}

export interface DatasetSpec {
  channels: number;
  numClasses: number;
  /** Label excluded from losses and metrics; Cityscapes uses 255. */
  ignoreLabel: number;
  /** Classes the field evaluates on (LIDC: [1]; Cityscapes: the 10 flip-related trainIds). */
  evalClasses: number[];
  /** The convention the field uses for a class absent from both maps. */
  emptyPair: 'one' | 'nan';
}

/** A dataset whose examples can be fetched by index (synthetic sources, directory listings). */
export interface IndexedDataset extends Dataset {
  get(index: number): Promise<Example>;
}

/** Builds an indexed dataset from a length and an async getter. */
export function indexedDataset(name: string, length: number, spec: DatasetSpec, get: (index: number) => Promise<Example>): IndexedDataset {
  return {
    name,
    length,
    spec,
    get(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= length) {
        return Promise.reject(new RangeError(`${name}: index ${index} is outside 0..${length - 1}`));
      }
      return get(index);
    },
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < length; i++) yield await get(i);
    },
  };
}

/**
 * n label maps drawn from an example's known distribution: an oracle's samples, whose GED against
 * the distribution is the floor a perfect model reaches with n samples.
 */
export function sampleFromDistribution(example: Example, n: number, seed: number): Uint8Array[] {
  const modes = example.distribution;
  if (!modes || modes.length === 0) throw new RangeError(`example ${example.id} has no known distribution`);
  let s = seed >>> 0;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let u = s / 4294967296;
    let k = 0;
    while (k < modes.length - 1 && (u -= modes[k]!.probability) >= 0) k++;
    out.push(modes[k]!.labels);
  }
  return out;
}
