import { aggregate } from './aggregate.js';
import { EvaluationError } from './errors.js';
import type { Evaluation } from './evaluate-sampler.js';

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
    for (const vals of Object.values(r.values)) {
      if (vals) vals.forEach((v, k) => (vals[k] = v === null ? NaN : v));
    }
  }
  return { ...e, ...aggregate(e.perImage, e.card.protocol.sampleCounts, e.card.protocol.conventions) };
}
