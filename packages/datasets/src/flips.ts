import { CITYSCAPES_FLIPS, type FlipSpec } from '@probunet/metrics';
import type { Mode } from './example.js';

// The flip table itself is @probunet/metrics' CITYSCAPES_FLIPS: one table for the data and the metrics.

/** The 10 classes the authors evaluate on: the flippable ones and their flipped twins. */
export const CITYSCAPES_EVAL_CLASSES = [0, 1, 8, 11, 13, 19, 20, 21, 22, 23];

/**
 * Every distinct flip combination of a label map with its probability (independent coins per
 * class). Combinations that differ only in classes absent from the map give the same labels and
 * are merged. Mode names have one character per flip: '1' flipped, '0' not, '-' class absent.
 */
export function flipDistribution(base: Uint8Array, flips: readonly FlipSpec[] = CITYSCAPES_FLIPS): Mode[] {
  const present = new Set(base);
  const modes = new Map<string, Mode>();
  for (let combo = 0; combo < 2 ** flips.length; combo++) {
    let probability = 1;
    let key = '';
    flips.forEach((f, b) => {
      const flipped = ((combo >> b) & 1) === 1;
      probability *= flipped ? f.probability : 1 - f.probability;
      key += present.has(f.from) ? (flipped ? '1' : '0') : '-';
    });
    const existing = modes.get(key);
    if (existing) {
      existing.probability += probability;
      continue;
    }
    const lut = Uint8Array.from({ length: 256 }, (_, v) => v);
    flips.forEach((f, b) => {
      if (((combo >> b) & 1) === 1) lut[f.from] = f.to;
    });
    modes.set(key, { name: key, probability, labels: Uint8Array.from(base, (v) => lut[v]!) });
  }
  return [...modes.values()];
}
