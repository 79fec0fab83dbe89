import { baselinesPlugin } from '@probunet/baselines';
import { corePlugin, createRegistry } from '@probunet/core';
import { describe, expect, it } from 'vitest';
import { successorsPlugin } from './plugin.js';

describe('successorsPlugin', () => {
  it('registers beside the core and baselines plugins without a type clash', () => {
    const registry = createRegistry([corePlugin, baselinesPlugin, successorsPlugin]);
    expect(registry.plugins).toEqual(['@probunet/core', '@probunet/baselines', '@probunet/successors']);
    for (const type of Object.keys(successorsPlugin.models ?? {})) expect(registry.types().models).toContain(type);
  });
});
