import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadNativeKernels, type NativeKernels } from '../src/index.js';
import { addonPath, compilerPresent } from './addon.js';
import { maxRelError, randomArray, refConv, refConvFilterGrad, refConvInputGrad, refGemm, type Geometry } from './reference.js';

function same(g: Partial<Geometry> & Pick<Geometry, 'batch' | 'inH' | 'inW' | 'inC' | 'outC' | 'kh' | 'kw'>): Geometry {
  const strideH = g.strideH ?? 1, strideW = g.strideW ?? 1, dilH = g.dilH ?? 1, dilW = g.dilW ?? 1;
  const outH = Math.ceil(g.inH / strideH), outW = Math.ceil(g.inW / strideW);
  const effH = (g.kh - 1) * dilH + 1, effW = (g.kw - 1) * dilW + 1;
  const padH = Math.max(0, (outH - 1) * strideH + effH - g.inH), padW = Math.max(0, (outW - 1) * strideW + effW - g.inW);
  return { ...g, strideH, strideW, dilH, dilW, outH, outW, padTop: Math.floor(padH / 2), padLeft: Math.floor(padW / 2) };
}

describe.skipIf(!compilerPresent)('@probunet/native kernels', () => {
  let native: NativeKernels;
  it('loads (compiled at install by scripts/build.mjs)', () => {
    native = loadNativeKernels();
    const info = native.info();
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.avx2).toBe('boolean');
  });

  const gemmCases: Array<[number, number, number]> = [[1, 1, 1], [7, 17, 3], [6, 16, 256], [13, 33, 257], [50, 40, 300], [145, 2050, 70], [300, 5, 600], [16, 20, 20000]];
  for (const [m, n, k] of gemmCases) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`gemm ${m}×${k} · ${k}×${n} transA=${transA} transB=${transB} matches float64 loops`, () => {
          const a = randomArray(m * k, m * 31 + k);
          const b = randomArray(k * n, n * 17 + k);
          const c = new Float32Array(m * n).fill(Number.NaN);
          native.gemm({ a, b, c, m, n, k, transA, transB });
          expect(maxRelError(c, refGemm(a, b, m, n, k, transA, transB))).toBeLessThan(1e-5);
        });
      }
    }
  }

  it('gemm with k = 0 writes zeros (plus bias)', () => {
    const c = new Float32Array(6).fill(7);
    native.gemm({ a: new Float32Array(0), b: new Float32Array(0), c, m: 2, n: 3, k: 0, bias: new Float32Array([1, 2, 3]) });
    expect(Array.from(c)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('batched gemm broadcasts a single b over the batch', () => {
    const [batch, m, n, k] = [3, 5, 4, 6];
    const a = randomArray(batch * m * k, 1);
    const b = randomArray(k * n, 2);
    const c = new Float32Array(batch * m * n);
    native.gemm({ a, b, c, m, n, k, batch, batchA: batch, batchB: 1 });
    for (let i = 0; i < batch; i++) {
      const want = refGemm(a.subarray(i * m * k, (i + 1) * m * k), b, m, n, k, false, false);
      expect(maxRelError(c.subarray(i * m * n, (i + 1) * m * n), want)).toBeLessThan(1e-5);
    }
  });

  it('epilogues: bias then relu, relu6, leakyrelu, sigmoid, elu', () => {
    // 1×1 product so each output is exactly a·b + bias.
    const a = new Float32Array([1]);
    const values = [-3, -0.5, 0, 0.5, 7];
    const b = new Float32Array(values);
    const bias = new Float32Array([0.25, 0.25, 0.25, 0.25, 0.25]);
    const pre = values.map((v) => v + 0.25);
    const expected: Record<string, (v: number) => number> = {
      linear: (v) => v,
      relu: (v) => Math.max(0, v),
      relu6: (v) => Math.min(6, Math.max(0, v)),
      leakyrelu: (v) => (v > 0 ? v : 0.2 * v),
      sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      elu: (v) => (v > 0 ? v : Math.expm1(v)),
    };
    for (const [activation, f] of Object.entries(expected)) {
      const c = new Float32Array(5);
      native.gemm({ a, b, c, m: 1, n: 5, k: 1, bias, activation: activation as 'relu', alpha: 0.2 });
      expect(maxRelError(c, pre.map(f))).toBeLessThan(1e-6);
    }
  });

  const convCases: Array<[string, Geometry]> = [
    ['3×3 SAME', same({ batch: 2, inH: 9, inW: 7, inC: 5, outC: 6, kh: 3, kw: 3 })],
    // More than 64 output channels and a reduction over 64: the packed-panel path (fewer channels
    // read the input in place, one segment per tap).
    ['3×3 SAME, 12 → 70 channels (packed panels)', same({ batch: 2, inH: 10, inW: 9, inC: 12, outC: 70, kh: 3, kw: 3 })],
    ['3×3 stride 2, 40 → 66 channels (packed panels, padding)', same({ batch: 1, inH: 9, inW: 11, inC: 40, outC: 66, kh: 3, kw: 3, strideH: 2, strideW: 2 })],
    // Stride 2: the filter gradient's segments step two pixels (stride 2·C) through the padded input.
    ['3×3 stride 2, 16 → 8 channels', same({ batch: 2, inH: 9, inW: 10, inC: 16, outC: 8, kh: 3, kw: 3, strideH: 2, strideW: 2 })],
    ['3×3 dilation 2, 48 → 20 channels', same({ batch: 1, inH: 11, inW: 8, inC: 48, outC: 20, kh: 3, kw: 3, dilH: 2, dilW: 2 })],
    ['3×3 SAME, 32 channels (whole micro-tiles)', same({ batch: 1, inH: 8, inW: 8, inC: 32, outC: 32, kh: 3, kw: 3 })],
    ['5×3 stride 2', same({ batch: 2, inH: 11, inW: 10, inC: 3, outC: 4, kh: 5, kw: 3, strideH: 2, strideW: 2 })],
    ['3×3 dilation 2', same({ batch: 1, inH: 12, inW: 9, inC: 4, outC: 3, kh: 3, kw: 3, dilH: 2, dilW: 2 })],
    ['1×1', same({ batch: 3, inH: 4, inW: 5, inC: 7, outC: 9, kh: 1, kw: 1 })],
    // The shape of probunet's filter gradient: a VALID conv whose "filter" covers the whole image.
    ['VALID with an image-sized filter', { batch: 4, inH: 10, inW: 10, inC: 3, outH: 3, outW: 3, outC: 5, kh: 8, kw: 8, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 }],
    // Its filter gradient is a long reduction (K = 18,432) into a small C: split over K across threads,
    // K blocks of at most 384 output positions each (segments end at output rows).
    ['3×3 SAME, batch 8 at 48×48', same({ batch: 8, inH: 48, inW: 48, inC: 8, outC: 16, kh: 3, kw: 3 })],
    ['300 input channels (K blocks split inside a tap)', same({ batch: 1, inH: 5, inW: 4, inC: 300, outC: 17, kh: 3, kw: 3 })],
    // Winograd F(2×2, 3×3): odd sides (part-empty tiles), many blocks over both threads, channels
    // that are not a whole vector or tile, VALID and asymmetric padding.
    ['Winograd: 3×3 SAME, batch 3 at 33×31, 24 → 40 channels', same({ batch: 3, inH: 33, inW: 31, inC: 24, outC: 40, kh: 3, kw: 3 })],
    ['Winograd: 3×3 VALID, 9 → 35 channels', { batch: 2, inH: 12, inW: 9, inC: 9, outH: 10, outW: 7, outC: 35, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 }],
    ['Winograd: 3×3 padded 2 top and 0 left, 130 → 8 channels', { batch: 1, inH: 7, inW: 8, inC: 130, outH: 8, outW: 6, outC: 8, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 2, padLeft: 0 }],
    ['Winograd: 3×3 SAME on a 1×1 image, 16 → 16 channels', same({ batch: 2, inH: 1, inW: 1, inC: 16, outC: 16, kh: 3, kw: 3 })],
  ];
  for (const [name, g] of convCases) {
    it(`conv2d ${name} matches float64 loops`, () => {
      const x = randomArray(g.batch * g.inH * g.inW * g.inC, g.inC * 7 + 1);
      const f = randomArray(g.kh * g.kw * g.inC * g.outC, g.outC * 13 + 2);
      const out = new Float32Array(g.batch * g.outH * g.outW * g.outC).fill(Number.NaN);
      native.conv2d(x, f, out, g);
      expect(maxRelError(out, refConv(x, f, g))).toBeLessThan(1e-5);
    });
  }

  for (const [name, g] of convCases) {
    it(`conv2d ${name}: filter gradient matches float64 loops`, () => {
      const x = randomArray(g.batch * g.inH * g.inW * g.inC, g.inC * 3 + 5);
      const dy = randomArray(g.batch * g.outH * g.outW * g.outC, g.outC * 5 + 3);
      const dw = new Float32Array(g.kh * g.kw * g.inC * g.outC).fill(Number.NaN);
      native.conv2dBackpropFilter(x, dy, dw, g);
      expect(maxRelError(dw, refConvFilterGrad(x, dy, g))).toBeLessThan(1e-5);
    });
    if (g.strideH !== 1 || g.strideW !== 1) continue;
    it(`conv2d ${name}: input gradient matches float64 loops`, () => {
      const dy = randomArray(g.batch * g.outH * g.outW * g.outC, g.outC * 11 + 1);
      const f = randomArray(g.kh * g.kw * g.inC * g.outC, g.inC * 2 + 9);
      const dx = new Float32Array(g.batch * g.inH * g.inW * g.inC).fill(Number.NaN);
      native.conv2dBackpropInput(dy, f, dx, g);
      expect(maxRelError(dx, refConvInputGrad(dy, f, g))).toBeLessThan(1e-5);
    });
  }

  it('the input gradient refuses strides it does not implement', () => {
    const g = same({ batch: 1, inH: 6, inW: 6, inC: 2, outC: 2, kh: 3, kw: 3, strideH: 2, strideW: 2 });
    expect(() => native.conv2dBackpropInput(new Float32Array(18), new Float32Array(36), new Float32Array(72), g)).toThrow(/needs stride 1/);
  });

  // Splitting rows or columns across threads leaves each output's summation order alone (a long
  // reduction split over K does not: there the last bits may differ with the thread count).
  it('gives bit-identical results with 1 and 2 threads', () => {
    const g = same({ batch: 2, inH: 32, inW: 32, inC: 16, outC: 24, kh: 3, kw: 3 });
    const x = randomArray(g.batch * g.inH * g.inW * g.inC, 5);
    const f = randomArray(g.kh * g.kw * g.inC * g.outC, 6);
    const runs = [1, 2].map((t) => {
      native.setThreads(t);
      const out = new Float32Array(g.batch * g.outH * g.outW * g.outC);
      native.conv2d(x, f, out, g, { bias: randomArray(g.outC, 7), activation: 'relu' });
      return out;
    });
    native.setThreads(0);
    expect(Buffer.from(runs[0]!.buffer).equals(Buffer.from(runs[1]!.buffer))).toBe(true);
  });

  it('sumLeading sums over the leading axes (to float accuracy over 200,000 rows)', () => {
    const [rows, cols] = [200_000, 7];
    const x = randomArray(rows * cols, 99);
    const out = new Float32Array(cols);
    native.sumLeading(x, rows, cols, out);
    for (let c = 0; c < cols; c++) {
      let s = 0;
      let abs = 0;
      for (let r = 0; r < rows; r++) {
        s += x[r * cols + c]!;
        abs += Math.abs(x[r * cols + c]!);
      }
      expect(Math.abs(out[c]! - s)).toBeLessThan(1e-6 * abs);
    }
  });

  it('copyColumns copies a slice along the last axis exactly', () => {
    const [rows, srcCols] = [5000, 9];
    const src = randomArray(rows * srcCols, 3);
    const dst = new Float32Array(rows * 4);
    native.copyColumns(src, rows, srcCols, 3, 4, dst);
    for (let r = 0; r < rows; r++) expect(Array.from(dst.subarray(r * 4, r * 4 + 4))).toEqual(Array.from(src.subarray(r * srcCols + 3, r * srcCols + 7)));
    expect(() => native.copyColumns(src, rows, srcCols, 6, 4, dst)).toThrow(/colStart \+ width exceeds srcCols/);
  });

  for (const [fh, sh, inH] of [[2, 2, 8], [3, 2, 9], [2, 1, 5]] as const) {
    it(`avgPoolGradValid ${fh}×${fh} stride ${sh} spreads dy/${fh * fh} over each window`, () => {
      const p = { batch: 3, inH, inW: inH, channels: 5, outH: Math.floor((inH - fh) / sh) + 1, outW: Math.floor((inH - fh) / sh) + 1, filterH: fh, filterW: fh, strideH: sh, strideW: sh };
      const dy = randomArray(p.batch * p.outH * p.outW * p.channels, 4);
      const dx = new Float32Array(p.batch * inH * inH * p.channels).fill(Number.NaN);
      native.avgPoolGradValid(dy, dx, p);
      const want = new Float64Array(dx.length);
      for (let b = 0; b < p.batch; b++)
        for (let oy = 0; oy < p.outH; oy++)
          for (let ox = 0; ox < p.outW; ox++)
            for (let ky = 0; ky < fh; ky++)
              for (let kx = 0; kx < fh; kx++)
                for (let c = 0; c < p.channels; c++)
                  { const i = ((b * inH + oy * sh + ky) * inH + ox * sh + kx) * p.channels + c; want[i] = want[i]! + dy[((b * p.outH + oy) * p.outW + ox) * p.channels + c]! / (fh * fh); }
      expect(maxRelError(dx, want)).toBeLessThan(1e-6);
    });
  }

  it('avgPoolGradValid refuses windows that reach outside the input', () => {
    const p = { batch: 1, inH: 4, inW: 4, channels: 1, outH: 3, outW: 3, filterH: 2, filterW: 2, strideH: 2, strideW: 2 };
    expect(() => native.avgPoolGradValid(new Float32Array(9), new Float32Array(16), p)).toThrow(/VALID pooling only/);
  });

  it('rejects arrays shorter than the shapes need, naming the argument', () => {
    const c = new Float32Array(4);
    expect(() => native.gemm({ a: new Float32Array(3), b: new Float32Array(4), c, m: 2, n: 2, k: 2 })).toThrow(/a has 3 values, the shapes need 4/);
    expect(() => native.gemm({ a: new Float32Array(4), b: new Float32Array(4), c: new Float32Array(3), m: 2, n: 2, k: 2 })).toThrow(/c has 3 values/);
    expect(() => native.gemm({ a: new Float64Array(4) as unknown as Float32Array, b: new Float32Array(4), c, m: 2, n: 2, k: 2 })).toThrow(/a must be a Float32Array/);
    expect(() => native.gemm({ a: new Float32Array(4), b: new Float32Array(4), c, m: 2, n: 2, k: 2, bias: new Float32Array(3) })).toThrow(/bias has 3 values, expected 2/);
    expect(() => native.gemm({ a: new Float32Array(4), b: new Float32Array(4), c, m: -2, n: 2, k: 2 })).toThrow(/m must be a non-negative integer/);
    const g = same({ batch: 1, inH: 4, inW: 4, inC: 2, outC: 2, kh: 3, kw: 3 });
    expect(() => native.conv2d(new Float32Array(31), new Float32Array(36), new Float32Array(32), g)).toThrow(/x has 31 values, the shapes need 32/);
    expect(() => native.conv2d(new Float32Array(32), new Float32Array(36), new Float32Array(32), { ...g, strideH: 0 })).toThrow(/strides and dilations/);
    expect(() => native.gemm({ a: new Float32Array(4), b: new Float32Array(4), c, m: 2, n: 2, k: 2, activation: 'swish' as 'relu' })).toThrow(/unknown activation "swish"/);
    // Sizes whose product wraps round int64 (2^32 · 2^32 = 2^64 ≡ 0) must not pass the length check.
    const huge = { ...g, inH: 2 ** 32, inW: 2 ** 32, inC: 1, outH: 1, outW: 1, outC: 1, kh: 1, kw: 1, padTop: 0, padLeft: 0 };
    expect(() => native.conv2d(new Float32Array(0), new Float32Array(1), new Float32Array(1), huge)).toThrow(/the sizes of x multiply to more than 2\^53 values/);
    expect(() => native.gemm({ a: new Float32Array(0), b: new Float32Array(0), c: new Float32Array(0), m: 2 ** 33, n: 0, k: 2 ** 31 })).toThrow(/the sizes of a multiply to more than 2\^53/);
  });

  it.skipIf(process.platform !== 'linux' || spawnSync('taskset', ['--version']).status !== 0)(
    'uses as many threads as the CPUs the process may run on (a cpuset), not the host’s',
    () => {
      const r = spawnSync('taskset', ['-c', '0', process.execPath, '-e', `process.stdout.write(String(require(${JSON.stringify(addonPath)}).info().threads))`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('1');
    },
  );

  it('info names the micro-kernel in use (the widest the processor has) and setIsa switches it, refusing unknown names', () => {
    const native = loadNativeKernels();
    const { isa, isas } = native.info();
    expect(isas[isas.length - 1]).toBe('portable');
    if (!process.env.PROBUNET_NATIVE_ISA && !process.env.PROBUNET_NATIVE_PORTABLE) expect(isa).toBe(isas[0]);
    try {
      for (const k of isas) {
        native.setIsa(k);
        expect(native.info().isa).toBe(k);
        expect(native.info().avx2).toBe(k !== 'portable');
      }
      expect(() => native.setIsa('sse9' as never)).toThrow(/unknown kernel 'sse9'; use 'avx512', 'avx2' or 'portable'/);
      for (const k of ['avx512', 'avx2'] as const) if (!isas.includes(k)) expect(() => native.setIsa(k)).toThrow(new RegExp(`lacks ${k}`));
    } finally {
      native.setIsa(isa);
    }
  });

  it('info says whether Winograd runs (on by default) and setWinograd switches it, refusing a non-boolean', () => {
    const native = loadNativeKernels();
    const initial = native.info().winograd;
    if (process.env.PROBUNET_NATIVE_WINOGRAD !== '0') expect(initial).toBe(true);
    try {
      native.setWinograd(false);
      expect(native.info().winograd).toBe(false);
      native.setWinograd(true);
      expect(native.info().winograd).toBe(true);
      expect(() => native.setWinograd('yes' as never)).toThrow(/setWinograd takes one boolean/);
    } finally {
      native.setWinograd(initial);
    }
  });

  it.skipIf(!compilerPresent)('PROBUNET_NATIVE_WINOGRAD=0 turns Winograd off at load time', () => {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(String(require(${JSON.stringify(addonPath)}).info().winograd))`], {
      env: { ...process.env, PROBUNET_NATIVE_WINOGRAD: '0' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('false');
  });

  it.skipIf(!compilerPresent || !loadNativeKernels().info().isas.includes('avx2'))('PROBUNET_NATIVE_ISA=avx2 chooses the AVX2 kernel at load time', () => {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(addonPath)}).info().isa)`], {
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PROBUNET_NATIVE_PORTABLE')), PROBUNET_NATIVE_ISA: 'avx2' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('avx2');
  });

  it('the portable (non-AVX2) micro-kernel gives the same products', () => {
    // A fresh process: the kernel is chosen once, when the addon loads.
    const script = `
      import { loadNativeKernels } from './src/index.ts';
      const n = loadNativeKernels();
      const m = 37, k = 300, nn = 41;
      const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: k * nn }, (_, i) => Math.cos(i));
      const c = new Float32Array(m * nn);
      n.gemm({ a, b, c, m, n: nn, k });
      let s = 0; for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) { let r = 0; for (let p = 0; p < k; p++) r += a[i * k + p] * b[p * nn + j]; s = Math.max(s, Math.abs(r - c[i * nn + j])); }
      console.log(JSON.stringify({ avx2: n.info().avx2, err: s }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, PROBUNET_NATIVE_PORTABLE: '1' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { avx2: boolean; err: number };
    expect(out.avx2).toBe(false);
    expect(out.err).toBeLessThan(1e-3);
  });
});
