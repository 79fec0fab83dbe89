import { SeededRandom } from '@probunet/core/random';

/**
 * How a synthetic source makes one grader's annotation implausible (see `implausibleGrader` of
 * `createSyntheticLidc` / `createSyntheticCityscapes`):
 * - `'shifted'`: a plausible annotation moved by half the image height and half its width
 *   (wrapping around), so it marks structures where the image shows none;
 * - `'inverted'`: lidc-like, the complement of the largest lesion (lesion everywhere but where
 *   one is); cityscapes-like, the scene upside down (road at the top, sky at the bottom).
 * Either lies far from every mode of the true distribution (tested: lidc-like, 1 − IoU ≥ 0.9 to
 * every mode; cityscapes-like, ≥ 0.6 in the authors' measure and ≥ 60 % of the labelled pixels
 * contradicting the scene with its flips undone).
 */
export const IMPLAUSIBLE_KINDS = ['shifted', 'inverted'] as const;
export type ImplausibleKind = (typeof IMPLAUSIBLE_KINDS)[number];

/** Checks the option once, where the sources read it; `undefined` (the default) means off. */
export function checkImplausibleOption(value: unknown, graders: number): ImplausibleKind | undefined {
  if (value === undefined) return undefined;
  if (!(IMPLAUSIBLE_KINDS as readonly unknown[]).includes(value)) {
    throw new RangeError(`implausibleGrader must be one of ${IMPLAUSIBLE_KINDS.join(', ')} (or left out), got ${JSON.stringify(value)}`);
  }
  if (graders < 2) {
    throw new RangeError(`implausibleGrader needs at least 2 graders per image (one implausible among plausible ones), got graders: ${graders}`);
  }
  return value as ImplausibleKind;
}

/**
 * Which grader of image `index` is the implausible one: uniform over the graders, from its own
 * random stream, so the image and the other graders are exactly those of the option turned off.
 */
export function implausibleGraderOf(seed: number, source: number, index: number, graders: number): number {
  return SeededRandom.derive(seed, 0x1abe1, source, index).nextInt(graders);
}

/** A row-major label map moved by (dy, dx) pixels with wrap-around. */
export function rollLabels(labels: Uint8Array, height: number, width: number, dy: number, dx: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let y = 0; y < height; y++) {
    const ty = (((y + dy) % height) + height) % height;
    for (let x = 0; x < width; x++) out[ty * width + ((((x + dx) % width) + width) % width)] = labels[y * width + x]!;
  }
  return out;
}

/** A row-major label map upside down (rows in reverse order). */
export function flipRows(labels: Uint8Array, height: number, width: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let y = 0; y < height; y++) out.set(labels.subarray(y * width, (y + 1) * width), (height - 1 - y) * width);
  return out;
}

/** A binary (0/1) label map with its classes swapped. */
export function complementBinary(labels: Uint8Array): Uint8Array {
  return Uint8Array.from(labels, (v) => 1 - v);
}
