import type { FlipSpec } from '@probunet/metrics';

/**
 * Every convention that changes a number. Two evaluations are comparable only when these agree
 * (with the dataset, its split and the sample counts); `protocolDifferences` says where they differ.
 */
export interface MetricConventions {
  /** Classes whose 1 − IoU is averaged into the distance d (LIDC: [1]; Cityscapes: 10 flip classes). */
  classes: number[];
  /** IoU of a class absent from both maps: 'one' (d = 0, LIDC practice) or 'nan' (authors' Cityscapes code). */
  emptyPair: 'one' | 'nan';
  /** GED under emptyPair 'nan': 'propagate' (authors' code: one NaN sample pair makes the image NaN) or 'skip'. */
  nanPairs: 'propagate' | 'skip';
  /** Label left out of every count (pixels carrying it in any truth). */
  ignoreLabel: number;
  /** Classes of the label maps (one-hot size for NCC). */
  numClasses: number;
  /** How truths are weighted: graders uniformly, a known distribution's modes by their probability. */
  truthWeights: 'graders uniform; distribution modes by probability';
  /** How matched IoU pairs samples with truths. */
  gtRepetition: 'graders repeated to n and Hungarian-matched when m divides n, else optimal transport with uniform weights; distribution modes by optimal transport';
  /** S_NCC as PHiSeg defines it. */
  ncc: { epsilon: 1e-8; standardDeviation: 'population'; constantMap: 'NaN' };
  /** ECE of one class's pixel-wise probability against the graders' fraction. */
  ece: { classId: number; bins: number };
  /** How a sample's mode is found for mode shares (datasets with a distribution but no flips). */
  modeAssignment: 'nearest mode by mean 1 − IoU over classes, empty pair one';
  /** Flip calibration (Cityscapes-like data): the flips, or null when not measured. */
  flips: FlipSpec[] | null;
  /** Mode shares and flip calibration use the largest sample count. */
  distributionSampleCount: 'largest';
}

/** What was evaluated, with which counts and conventions: the part two comparable results share. */
export interface Protocol {
  dataset: {
    name: string;
    split: string;
    /** Images in the whole dataset (all shards). */
    images: number;
  };
  /** Images this result covers and a hash (FNV-1a 64) of their ids in index order. */
  examples: { count: number; hash: string };
  sampleCounts: number[];
  conventions: MetricConventions;
}

export interface ModelDescription {
  /** Registry type (`kind`) or the class name. */
  type: string;
  /** `getConfig()` when the model has one: JSON that rebuilds it. */
  config: unknown;
  /** `parameterCounts()` when the model has one, else the total over `parameters()`; null if neither. */
  parameterCounts: Record<string, number> | null;
}

/** A record of how every number of an evaluation was made. Plain JSON: it round-trips through JSON.stringify. */
export interface ProtocolCard {
  format: 'probunet-evaluation';
  version: 1;
  protocol: Protocol;
  /** Which slice of the images; null for a whole (or merged) run. */
  shard: { index: number; count: number } | null;
  model: ModelDescription;
  run: {
    backend: string;
    seed: number;
    /** Images per sampler call: the samples depend on it, so shards of one run share it. */
    batchSize: number;
    package: '@probunet/evaluation';
    version: string;
    date: string;
  };
}

/**
 * Where two cards' protocols differ, one line per difference ("protocol.sampleCounts: [1,4] vs
 * [1,4,16]"); empty when the results are comparable. `ignore` lists dotted paths to skip.
 */
export function protocolDifferences(a: ProtocolCard, b: ProtocolCard, ignore: readonly string[] = []): string[] {
  const out: string[] = [];
  diff(a.protocol, b.protocol, 'protocol', new Set(ignore), out);
  return out;
}

/** Dotted-path differences between two JSON values. */
export function diff(a: unknown, b: unknown, path: string, ignore: ReadonlySet<string>, out: string[]): void {
  if (ignore.has(path)) return;
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diff(a[k], b[k], `${path}.${k}`, ignore, out);
    return;
  }
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  if (sa !== sb) out.push(`${path}: ${clip(sa)} vs ${clip(sb)}`);
}

const clip = (s: string | undefined) => (s === undefined ? 'absent' : s.length > 80 ? `${s.slice(0, 77)}…` : s);

/** FNV-1a 64-bit over the ids, each followed by a newline; 16 hex digits. */
export function hashExampleIds(ids: readonly string[]): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  const bytes = new TextEncoder().encode(ids.map((id) => `${id}\n`).join(''));
  for (const byte of bytes) h = ((h ^ BigInt(byte)) * prime) & mask;
  return h.toString(16).padStart(16, '0');
}
