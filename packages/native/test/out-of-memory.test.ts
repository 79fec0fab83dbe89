import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compilerPresent } from './addon.js';

// Running out of scratch memory, on the calling thread or on a pool thread, is a JavaScript Error
// naming the kernel and the bytes asked for; the process carries on. A fresh process with
// PROBUNET_NATIVE_SCRATCH_LIMIT (read when the addon loads) refuses any scratch block over 64 KiB.
const script = `
  import { loadNativeKernels } from './src/index.ts';
  const native = loadNativeKernels();
  const attempt = (fn) => { try { fn(); return 'no error'; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
  const n = 300, a = new Float32Array(n * n).fill(1), b = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
  const results = {};
  for (const threads of [1, 2]) {
    native.setThreads(threads);
    results['gemm' + threads] = attempt(() => native.gemm({ a, b, c, m: n, n, k: n }));
  }
  const g = { batch: 1, inH: 8, inW: 8, inC: 40, outH: 8, outW: 8, outC: 50, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 };
  results.conv2dBackpropInput = attempt(() => native.conv2dBackpropInput(new Float32Array(3200), new Float32Array(18000), new Float32Array(2560), g));
  results.sumLeading = attempt(() => native.sumLeading(new Float32Array(40000), 1, 40000, new Float32Array(40000)));
  // Still usable afterwards, within the limit.
  const small = new Float32Array(4);
  native.gemm({ a: new Float32Array([1, 2, 3, 4]), b: new Float32Array([1, 0, 0, 1]), c: small, m: 2, n: 2, k: 2 });
  results.after = Array.from(small);
  console.log(JSON.stringify(results));`;

describe.skipIf(!compilerPresent)('@probunet/native out of scratch memory', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...process.env, PROBUNET_NATIVE_SCRATCH_LIMIT: '65536' },
    encoding: 'utf8',
  });
  const results = () => {
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };
  const oom = (kernel: string, bytes: number, what: string) => ({
    name: 'Error',
    code: 'PROBUNET_NATIVE_OUT_OF_MEMORY',
    message: `@probunet/native ${kernel}: out of memory allocating ${(bytes / 1048576).toFixed(1)} MB (${bytes} bytes) of scratch space for ${what}; free memory or split the work (a smaller batch)`,
  });

  // 300×300×300: 144 rows × 300 (K in one block) of packed A = 172,800 bytes, in each thread's share.
  it.each([1, 2])('gemm on %i thread(s) throws an Error naming the kernel and the bytes', (threads) => {
    expect(results()[`gemm${threads}`]).toEqual(oom('gemm', 172_800, 'packed A panels'));
  });

  it('conv2dBackpropInput names its first oversized block: the rotated filter (3·3·40·50 floats)', () => {
    expect(results().conv2dBackpropInput).toEqual(oom('conv2dBackpropInput', 9 * 40 * 50 * 4, 'the rotated filter'));
  });

  it('sumLeading names its per-thread sums (40,000 doubles)', () => {
    expect(results().sumLeading).toEqual(oom('sumLeading', 320_000, 'per-thread column sums'));
  });

  it('the process carries on and later calls work', () => {
    expect(results().after).toEqual([1, 2, 3, 4]);
  });
});
