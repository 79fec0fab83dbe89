import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

// loadNativeKernels caches the addon: each case imports a fresh copy of the module.
async function freshLoader() {
  vi.resetModules();
  return import('../src/index.js');
}

const dir = mkdtempSync(join(tmpdir(), 'probunet-native-loader-'));
const saved = process.env.PROBUNET_NATIVE_ADDON;
afterEach(() => {
  if (saved === undefined) delete process.env.PROBUNET_NATIVE_ADDON;
  else process.env.PROBUNET_NATIVE_ADDON = saved;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadNativeKernels when the addon cannot be loaded', () => {
  it('names a PROBUNET_NATIVE_ADDON that does not exist, as a NativeUnavailableError', async () => {
    const { loadNativeKernels, NativeUnavailableError } = await freshLoader();
    process.env.PROBUNET_NATIVE_ADDON = join(dir, 'missing.node');
    const err = (() => {
      try {
        loadNativeKernels();
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(NativeUnavailableError);
    expect((err as Error).name).toBe('NativeUnavailableError');
    expect((err as Error).message).toBe(`PROBUNET_NATIVE_ADDON=${join(dir, 'missing.node')} does not exist; unset it to load ${new URL('../build/Release/probunet_native.node', import.meta.url).pathname}`);
  });

  it('quotes the dynamic loader when the file is not an addon', async () => {
    const { loadNativeKernels, NativeUnavailableError } = await freshLoader();
    const bogus = join(dir, 'bogus.node');
    writeFileSync(bogus, 'not a shared object');
    process.env.PROBUNET_NATIVE_ADDON = bogus;
    expect(() => loadNativeKernels()).toThrow(NativeUnavailableError);
    expect(() => loadNativeKernels()).toThrow(new RegExp(`^@probunet/native failed to load ${bogus.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(invalid ELF header|file too short)`));
  });
});
