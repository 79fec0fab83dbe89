import { aggregate } from './aggregate.js';
import { EvaluationError } from './errors.js';
import type { Evaluation } from './evaluate-sampler.js';
import { diff, hashExampleIds, type ProtocolCard } from './protocol-card.js';

/**
 * Joins the results of the shards of one run (`shard: { index, count }`, e.g. one per Kubernetes
 * Indexed Job completion or Slurm array task) into exactly the result of one unsharded run: the
 * same per-image values in dataset order and the same aggregates (recomputed from them). The card
 * is the unsharded run's, with the latest shard's date. Refuses parts whose protocol, model,
 * seed or batch size differ, and missing or duplicated shards, naming the problem.
 */
export function mergeEvaluations(parts: readonly Evaluation[]): Evaluation {
  if (!Array.isArray(parts) || parts.length === 0) throw new EvaluationError('mergeEvaluations needs at least one part');
  const cards = parts.map((p) => p.card);
  const count = cards[0]!.shard?.count ?? 1;
  const seen = new Map<number, number>();
  cards.forEach((c, i) => {
    const shard = c.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) throw new EvaluationError(`part ${i} is shard ${shard.index} of ${shard.count} but part 0 is one of ${count}: merge the shards of one run`);
    if (seen.has(shard.index)) throw new EvaluationError(`shard ${shard.index} of ${count} is given twice (parts ${seen.get(shard.index)} and ${i})`);
    seen.set(shard.index, i);
    const differences = cardDifferences(cards[0]!, c);
    if (differences.length > 0) throw new EvaluationError(`part ${i} was not made by the same run as part 0: ${differences.join('; ')}`);
  });
  const missing = Array.from({ length: count }, (_, k) => k).filter((k) => !seen.has(k));
  if (missing.length > 0) throw new EvaluationError(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${count} missing: run them and merge again`);

  const perImage = parts.flatMap((p) => p.perImage).sort((a, b) => a.index - b.index);
  for (let k = 1; k < perImage.length; k++) {
    if (perImage[k]!.index === perImage[k - 1]!.index) throw new EvaluationError(`image ${perImage[k]!.index} (${perImage[k]!.id}) appears in two parts`);
  }
  const c0 = cards[0]!;
  if (perImage.length !== c0.protocol.dataset.images) {
    throw new EvaluationError(`the parts cover ${perImage.length} images but ${c0.protocol.dataset.name} has ${c0.protocol.dataset.images}`);
  }
  const date = cards.map((c) => c.run.date).sort().at(-1)!;
  const card: ProtocolCard = {
    ...c0,
    protocol: { ...c0.protocol, examples: { count: perImage.length, hash: hashExampleIds(perImage.map((r) => r.id)) } },
    shard: null,
    run: { ...c0.run, date },
  };
  const sum = (k: keyof Evaluation['timing']) => parts.reduce((a, p) => a + p.timing[k], 0);
  return {
    card,
    perImage,
    ...aggregate(perImage, card.protocol.sampleCounts, card.protocol.conventions),
    timing: { loadingSeconds: sum('loadingSeconds'), samplingSeconds: sum('samplingSeconds'), metricsSeconds: sum('metricsSeconds'), totalSeconds: sum('totalSeconds') },
  };
}

/** What must agree between shards of one run: protocol (but the slice), model, seed, batch size, backend and version. */
function cardDifferences(a: ProtocolCard, b: ProtocolCard): string[] {
  const out: string[] = [];
  diff(a.protocol, b.protocol, 'protocol', new Set(['protocol.examples']), out);
  diff(a.model, b.model, 'model', new Set(), out);
  for (const k of ['seed', 'batchSize', 'backend', 'version'] as const) diff(a.run[k], b.run[k], `run.${k}`, new Set(), out);
  return out;
}
