import { aggregate } from './aggregate.js';
import { EvaluationError } from './errors.js';
import type { Evaluation } from './evaluate-sampler.js';
import type { ImageResult } from './image-metrics.js';

/** Per-image flip counts as written before the flip record (probunet 0.1.0 files). */
type LegacyImageResult = ImageResult & { flips?: Array<{ truthPixels: number; flippedPixels: number }>; flipModes?: Array<{ key: string; count: number }> };

/** Rebuilds `flipRecord` from the older `flips` + `flipModes` fields, which hold the same counts (truthPixels = class pixels × samples). */
function upgradeFlipRecord(r: LegacyImageResult): void {
  if (r.flipRecord || !r.flips || !r.flipModes) return;
  const samples = r.flipModes.reduce((s, m) => s + m.count, 0);
  r.flipRecord = {
    classPixels: r.flips.map((f) => f.truthPixels / samples),
    flippedPixels: r.flips.map((f) => f.flippedPixels),
    modes: r.flipModes.map(({ key, count }) => ({ key, count })).sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
  delete r.flips;
  delete r.flipModes;
}

/** An evaluation as JSON text (NaN becomes null). */
export function evaluationToJSON(evaluation: Evaluation): string {
  return `${JSON.stringify(evaluation, null, 2)}\n`;
}

/**
 * Reads `evaluationToJSON`'s text back: per-image nulls become NaN again and the aggregates are
 * recomputed from the per-image values (identical to the written ones), so shard files written by
 * separate jobs merge exactly.
 */
export function evaluationFromJSON(text: string): Evaluation {
  const e = JSON.parse(text) as Evaluation;
  if (e?.card?.format !== 'probunet-evaluation' || !Array.isArray(e.perImage)) {
    throw new EvaluationError('this JSON is not a probunet evaluation (card.format "probunet-evaluation" and perImage expected)');
  }
  if (e.card.version !== 1) throw new EvaluationError(`evaluation card version ${String(e.card.version)} is not supported; this build reads version 1`);
  for (const r of e.perImage) {
    upgradeFlipRecord(r as LegacyImageResult);
    for (const vals of Object.values(r.values)) {
      if (vals) vals.forEach((v, k) => (vals[k] = v === null ? NaN : v));
    }
  }
  return { ...e, ...aggregate(e.perImage, e.card.protocol.sampleCounts, e.card.protocol.conventions) };
}
