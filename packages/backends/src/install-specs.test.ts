import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initBackend } from './index.js';
import { INSTALL_SPECS, PROVIDERS } from './providers.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
const declared = { ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.dependencies };

describe('a missing optional backend package', () => {
  it('is reported with the exact npm i line', async () => {
    const missing = { '@tensorflow/tfjs-node': () => Promise.reject(Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node'"), { code: 'ERR_MODULE_NOT_FOUND' })) };
    await expect(initBackend('node', { modules: missing })).rejects.toThrow(/@tensorflow\/tfjs-node is not installed: npm i @tensorflow\/tfjs-node@4\.22\.0\n/);
  });

  it('every provider has an install line, at the version package.json declares', () => {
    for (const provider of Object.values(PROVIDERS)) expect(INSTALL_SPECS[provider.packageName], provider.name).toBeDefined();
    for (const [name, spec] of Object.entries(INSTALL_SPECS)) {
      const version = /^(@?[^@]+)@(.+)$/.exec(spec)?.[2];
      // tfjs-node(-gpu) are not dependencies at all: they follow tfjs-core's version.
      const expected = declared[name] ?? (name.startsWith('@tensorflow/tfjs-node') ? declared['@tensorflow/tfjs-core'] : undefined);
      if (name === '@probunet/native') expect(spec).toBe(name); // the fixed version group: the latest matches
      else expect(version, name).toBe(expected);
    }
  });
});
