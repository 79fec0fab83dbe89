import { countParameters, type Parameter, type SegmentationSampler } from '@probunet/core';
import type { ModelDescription } from './protocol-card.js';

interface Introspectable {
  kind?: unknown;
  getConfig?: () => unknown;
  parameterCounts?: () => Record<string, number>;
  parameters?: () => Parameter[];
}

/** The model's type, config and parameter counts, as far as the sampler exposes them. */
export function describeModel(sampler: SegmentationSampler): ModelDescription {
  const m = sampler as SegmentationSampler & Introspectable;
  const type = typeof m.kind === 'string' ? m.kind : (sampler.constructor?.name ?? 'unknown');
  const config = typeof m.getConfig === 'function' ? JSON.parse(JSON.stringify(m.getConfig())) : null;
  let parameterCounts: Record<string, number> | null = null;
  if (typeof m.parameterCounts === 'function') parameterCounts = { ...m.parameterCounts() };
  else if (typeof m.parameters === 'function') parameterCounts = { total: countParameters(m.parameters()) };
  return { type, config, parameterCounts };
}
