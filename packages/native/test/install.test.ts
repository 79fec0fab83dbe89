import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// Installing must never fail because the native build cannot run. A copy of this package is built
// with a compiler that always fails (CXX=false): the install script must exit 0, record why, and
// the loader must then refuse with that reason.
const pkg = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'probunet-native-install-'));
for (const f of ['binding.gyp', 'csrc', 'scripts', 'src', 'package.json']) cpSync(join(pkg, f), join(dir, f), { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['scripts/build.mjs', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });

describe('scripts/build.mjs (the install script)', () => {
  it('exits 0 when the compiler fails, records the reason, and the loader quotes it', () => {
    const r = run([], { CXX: 'false', CC: 'false' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/@probunet\/native: not compiled — node-gyp rebuild failed/);
    expect(r.stderr).toMatch(/The native and wasm-native backends will be unavailable/);
    const status = JSON.parse(readFileSync(join(dir, 'build', 'status.json'), 'utf8')) as { ok: boolean; reason: string };
    expect(status.ok).toBe(false);
    expect(existsSync(join(dir, 'build', 'Release', 'probunet_native.node'))).toBe(false);
    writeFileSync(join(dir, 'check.mts'), "import { loadNativeKernels } from './src/index.ts';\ntry { loadNativeKernels(); console.log('loaded'); } catch (e) { console.log(`${(e as Error).name}: ${(e as Error).message}`); }\n");
    const load = spawnSync(join(pkg, '../../node_modules/.bin/tsx'), ['check.mts'], { cwd: dir, encoding: 'utf8' });
    expect(load.stdout, load.stderr).toMatch(/NativeUnavailableError: @probunet\/native is not compiled \(node-gyp rebuild failed \(exit \d+\)[\s\S]*\); the native and wasm-native backends are unavailable\. Build it with: npm rebuild @probunet\/native/);
  });

  it('when npm skipped the install script, the loader says so and how to allow it', () => {
    const skipped = mkdtempSync(join(tmpdir(), 'probunet-native-skipped-'));
    try {
      for (const f of ['src', 'package.json']) cpSync(join(pkg, f), join(skipped, f), { recursive: true });
      writeFileSync(join(skipped, 'check.mts'), "import { loadNativeKernels } from './src/index.ts';\ntry { loadNativeKernels(); console.log('loaded'); } catch (e) { console.log(`${(e as Error).name}: ${(e as Error).message}`); }\n");
      const load = spawnSync(join(pkg, '../../node_modules/.bin/tsx'), ['check.mts'], { cwd: skipped, encoding: 'utf8' });
      expect(load.stdout, load.stderr).toMatch(/NativeUnavailableError: @probunet\/native is not compiled \(the install-time build did not run: npm skipped its install script[\s\S]*"allowScripts": \{ "@probunet\/native": true \}\); the native and wasm-native backends are unavailable\. Build it with: npm rebuild @probunet\/native/);
    } finally {
      rmSync(skipped, { recursive: true, force: true });
    }
  });

  it('--required turns the failure into an error', () => {
    expect(run(['--required'], { CXX: 'false', CC: 'false' }).status).toBe(1);
  });

  it('PROBUNET_NATIVE=off skips the build and says so', () => {
    const r = run([], { PROBUNET_NATIVE: 'off' });
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'build', 'status.json'), 'utf8')).reason).toMatch(/skipped: PROBUNET_NATIVE=off/);
  });
});
