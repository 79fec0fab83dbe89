import type { ProbUNetPlugin } from '@probunet/core';

/** Placeholder until the hierarchical model lands: its model factories and parameter shapes. */
export const hierarchicalPluginParts: Pick<ProbUNetPlugin, 'models' | 'parameterShapes'> = { models: {}, parameterShapes: {} };
