import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendError, formatBackendReport, initBackend } from './index.js';

/** Whether Dawn finds an adapter here; CI installs Mesa (scripts/install-mesa.sh), so there it must. */
async function probeWebgpu(): Promise<boolean> {
  try {
    await initBackend('webgpu');
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`webgpu does not load here, its case is skipped: ${(err as Error).message}`);
    return false;
  } finally {
    await tf.setBackend('cpu');
  }
}
const webgpuLoads = await probeWebgpu();

describe('initBackend', () => {
  it('auto selects the first candidate that loads and says why the others did not', async () => {
    const r = await initBackend('auto');
    // tfjs-node cannot install from the npm registry alone (its postinstall downloads libtensorflow),
    // so on these machines auto falls through to our native backend (compiled at install).
    expect(r.selected).toBe('native');
    expect(tf.getBackend()).toBe('native');
    expect(r.notes.join(' ')).toMatch(/no 4 GiB heap.*run in @probunet\/native/);
    expect(r.floatPrecision).toBe(32);
    const node = r.candidates.find((c) => c.name === 'node')!;
    expect(node.status).toBe('failed');
    expect(node.reason).toMatch(/@tensorflow\/tfjs-node is not installed/);
    expect(r.candidates.find((c) => c.name === 'wasm-native')!.reason).toMatch(/^native was selected first$/);
    expect(r.candidates.find((c) => c.name === 'cpu')!.reason).toMatch(/^native was selected first$/);
    expect(formatBackendReport(r)).toMatch(/^backend: native/);
  });

  it('an explicit name loads that backend', async () => {
    const r = await initBackend('cpu');
    expect(r.selected).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const t = tf.add(tf.scalar(1), tf.scalar(2));
    expect(t.dataSync()[0]).toBe(3);
    t.dispose();
  });

  it('auto passes over native and wasm-native where the processor lacks AVX2/FMA, saying why (explicit still loads)', async () => {
    // The instruction set is detected once, when the addon loads: ask a fresh process (built dist).
    const { spawnSync } = await import('node:child_process');
    const script = `
      import { initBackend } from '@probunet/backends';
      const auto = await initBackend('auto');
      const named = await initBackend('wasm-native');
      const namedNative = await initBackend('native');
      const reason = (n) => auto.candidates.find((c) => c.name === n).reason;
      console.log(JSON.stringify({ selected: auto.selected, reason: reason('wasm-native'), nativeReason: reason('native'), named: named.selected, namedNative: namedNative.selected }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../../..', import.meta.url).pathname,
      encoding: 'utf8',
      env: { ...process.env, PROBUNET_NATIVE_PORTABLE: '1' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.selected).toBe('wasm');
    expect(out.reason).toMatch(/lacks AVX2\/FMA.*request 'wasm-native' by name/);
    expect(out.nativeReason).toMatch(/lacks AVX2\/FMA.*request 'native' by name/);
    expect(out.named).toBe('wasm-native');
    expect(out.namedNative).toBe('native');
  });

  it('threads go through the API', async () => {
    const n = await initBackend('native', { threads: 1 });
    expect(n.threads).toBe(1);
    const r = await initBackend('wasm-native', { threads: 1 });
    expect(r.threads).toBe(1);
    const again = await initBackend('wasm-native', { threads: 2 });
    expect(again.threads).toBe(2);
    await expect(initBackend('wasm-native', { threads: 0 })).rejects.toThrow(/threads must be a whole number ≥ 1, got 0/);
    await tf.setBackend('cpu');
  });

  it('an unknown name lists the choices', async () => {
    await expect(initBackend('cuda' as never)).rejects.toThrow(BackendError);
    await expect(initBackend('cuda' as never)).rejects.toThrow(/unknown backend "cuda"; choose one of: auto, node-gpu, node, webgpu, native, wasm-native, wasm, cpu/);
  });

  it('a backend that cannot initialise fails with the reason', async () => {
    await expect(initBackend('node')).rejects.toThrow(/backend "node" could not be initialised:[\s\S]*@tensorflow\/tfjs-node is not installed/);
  });

  it('a bundled program passes the packages it carries as module loaders', async () => {
    const asked: string[] = [];
    const r = await initBackend('cpu', {
      modules: {
        '@tensorflow/tfjs-backend-cpu': async () => {
          asked.push('@tensorflow/tfjs-backend-cpu');
          return import('@tensorflow/tfjs-backend-cpu');
        },
      },
    });
    expect(r.selected).toBe('cpu');
    expect(asked).toEqual(['@tensorflow/tfjs-backend-cpu']);
    // A loader that fails is reported like a missing package, naming it.
    const failing = { '@tensorflow/tfjs-node': () => Promise.reject(Object.assign(new Error("Cannot find module 'x'"), { code: 'ERR_MODULE_NOT_FOUND' })) };
    await expect(initBackend('node', { modules: failing })).rejects.toThrow(/@tensorflow\/tfjs-node is not installed/);
  });

  it.skipIf(!webgpuLoads)('webgpu in Node runs through Dawn and names its adapter', async () => {
    try {
      const r = await initBackend('webgpu');
      expect(r.tfBackend).toBe('webgpu');
      expect(r.notes.join(' ')).toMatch(/Dawn backend=opengl, adapter: .*Mesa/);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('the tfjs "install tfjs-node" banner', () => {
  it('never appears on a backend initBackend chose, with PROD off', async () => {
    const warn = console.warn;
    const seen: string[] = [];
    const prod = tf.env().getBool('PROD');
    tf.env().set('PROD', false);
    console.warn = (...a: unknown[]) => void seen.push(a.join(' '));
    try {
      tf.removeBackend('cpu');
      const { registerBackend } = tf;
      const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
      registerBackend('cpu', () => new MathBackendCPU(), 1);
      await initBackend('cpu');
      tf.tidy(() => tf.add(tf.tensor([1, 2]), 1).dataSync());
    } finally {
      console.warn = warn;
      tf.env().set('PROD', prod);
    }
    expect(seen.join('\n')).not.toMatch(/running TensorFlow\.js in Node\.js/);
    // The banner is real: a fresh cpu backend used directly prints it.
    const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
    const direct: string[] = [];
    tf.env().set('PROD', false);
    console.warn = (...a: unknown[]) => void direct.push(a.join(' '));
    try {
      const b = new MathBackendCPU();
      b.write(new Float32Array([1]), [1], 'float32');
    } finally {
      console.warn = warn;
      tf.env().set('PROD', prod);
    }
    expect(direct.join('\n')).toMatch(/running TensorFlow\.js in Node\.js/);
  });
});
