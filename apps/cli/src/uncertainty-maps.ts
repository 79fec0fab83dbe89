// TODO(issue 13): replace with `uncertaintyMaps` from @probunet/metrics once the evaluation work
// lands on main; this local copy exists so that `probunet sample` does not wait for it.

export interface UncertaintyMaps {
  /** Per class k: the share of the n samples that give each pixel class k, row-major H×W. */
  classFrequency: Float32Array[];
  /** Entropy of that per-pixel class distribution, in nats (0 … ln(numClasses)). */
  entropy: Float32Array;
}

/**
 * Pixel-wise uncertainty of n sampled label maps: class frequencies and their entropy
 * H = −Σ_k p_k ln p_k (the predictive entropy of the samples' empirical distribution).
 * Labels outside 0..numClasses−1 (the ignore label) are not counted.
 */
export function uncertaintyMaps(samples: readonly ArrayLike<number>[], height: number, width: number, numClasses: number): UncertaintyMaps {
  const hw = height * width;
  const counts = Array.from({ length: numClasses }, () => new Float32Array(hw));
  for (const s of samples) {
    if (s.length !== hw) throw new RangeError(`a sample has ${s.length} pixels, expected ${height}×${width}`);
    for (let i = 0; i < hw; i++) {
      const k = s[i]!;
      if (k >= 0 && k < numClasses) counts[k]![i]! += 1;
    }
  }
  const n = samples.length;
  const entropy = new Float32Array(hw);
  for (const c of counts) {
    for (let i = 0; i < hw; i++) {
      const p = n > 0 ? c[i]! / n : 0;
      c[i] = p;
      if (p > 0) entropy[i]! -= p * Math.log(p);
    }
  }
  return { classFrequency: counts, entropy };
}
