import type { ProbUNetPlugin } from '@probunet/core';

/** Placeholder until the SSN lands: the SSN's model factories and parameter shapes. */
export const ssnPluginParts: Pick<ProbUNetPlugin, 'models' | 'parameterShapes'> = { models: {}, parameterShapes: {} };
