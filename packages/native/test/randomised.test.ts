import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeKernels, type NativeActivation } from '../src/index.js';
import { compilerPresent } from './addon.js';
import { maxRelError, randomArray, refConv, refConvFilterGrad, refConvInputGrad, refGemm, type Geometry } from './reference.js';

// Random shapes (odd sizes, 1-wide images, every kernel size, stride, dilation and padding mode)
// against the float64 loops. The seed changes per run; a failure names it and the case, and
// PROBUNET_NATIVE_SEED=<seed> replays the run.
const seed = Number(process.env.PROBUNET_NATIVE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = 100;

/** mulberry32 over integers. */
function generator(s: number) {
  let t = s >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { int, pick, next };
}
type Rng = ReturnType<typeof generator>;

/** An image side: 1 a fifth of the time, else 2..17. */
const side = (r: Rng) => (r.next() < 0.2 ? 1 : r.int(2, 17));

/** One spatial axis: [out, padBefore] for this padding mode, or null when nothing fits. */
function axis(r: Rng, mode: string, size: number, k: number, stride: number, dil: number): [number, number] | null {
  const eff = (k - 1) * dil + 1;
  let out: number, before: number;
  if (mode === 'SAME') {
    out = Math.ceil(size / stride);
    before = Math.floor(Math.max(0, (out - 1) * stride + eff - size) / 2);
  } else if (mode === 'VALID') {
    out = Math.floor((size - eff) / stride) + 1;
    before = 0;
  } else {
    before = r.int(0, eff - 1);
    out = Math.floor((size + before + r.int(0, eff - 1) - eff) / stride) + 1;
  }
  return out >= 1 ? [out, before] : null;
}

function randomGeometry(r: Rng, stride1: boolean): { g: Geometry; mode: string } {
  for (;;) {
    const mode = r.pick(['SAME', 'VALID', 'explicit'] as const);
    const kh = r.pick([1, 3, 5]), kw = r.pick([1, 3, 5]);
    const strideH = stride1 ? 1 : r.pick([1, 2]), strideW = stride1 ? 1 : r.pick([1, 2]);
    const dilH = r.pick([1, 1, 2]), dilW = r.pick([1, 1, 2]);
    const inH = side(r), inW = side(r);
    const h = axis(r, mode, inH, kh, strideH, dilH), w = axis(r, mode, inW, kw, strideW, dilW);
    if (!h || !w) continue;
    const g = { batch: r.int(1, 3), inH, inW, inC: r.int(1, 20), outH: h[0], outW: w[0], outC: r.int(1, 20), kh, kw, strideH, strideW, dilH, dilW, padTop: h[1], padLeft: w[1] };
    return { g, mode };
  }
}

/** A convolution Winograd F(2×2, 3×3) takes: 3×3, stride 1, undilated, 8+ channels each side. */
function randomWinogradGeometry(r: Rng): { g: Geometry; mode: string } {
  for (;;) {
    const mode = r.pick(['SAME', 'VALID', 'explicit'] as const);
    const inH = side(r), inW = side(r);
    const h = axis(r, mode, inH, 3, 1, 1), w = axis(r, mode, inW, 3, 1, 1);
    if (!h || !w) continue;
    // Channels: below and above a vector (16), a tile (32) and several tiles; batches whose tiles
    // fill several blocks (a block holds at least 12 tiles).
    const g = { batch: r.int(1, 4), inH, inW, inC: r.pick([8, r.int(8, 40), r.int(60, 140)]), outH: h[0], outW: w[0], outC: r.pick([8, r.int(8, 40), r.int(60, 140)]), kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: h[1], padLeft: w[1] };
    return { g, mode };
  }
}

const describeGeometry = ({ g, mode }: { g: Geometry; mode: string }) =>
  `${g.batch}×${g.inH}×${g.inW}×${g.inC} → ${g.outH}×${g.outW}×${g.outC}, ${g.kh}×${g.kw} stride ${g.strideH},${g.strideW} dilation ${g.dilH},${g.dilW} ${mode} (pad ${g.padTop},${g.padLeft})`;

const activations: Record<NativeActivation, (v: number, alpha: number) => number> = {
  linear: (v) => v,
  relu: (v) => Math.max(0, v),
  relu6: (v) => Math.min(6, Math.max(0, v)),
  leakyrelu: (v, a) => (v > 0 ? v : a * v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  elu: (v) => (v > 0 ? v : Math.expm1(v)),
};

/** ref + bias, then the activation, over rows of `cols` values. */
function withEpilogue(ref: Float64Array, cols: number, bias: Float32Array | null, act: NativeActivation, alpha: number): Float64Array {
  return ref.map((v, i) => activations[act](v + (bias ? bias[i % cols]! : 0), alpha));
}

describe.skipIf(!compilerPresent)(`@probunet/native on random shapes (seed ${seed}; replay with PROBUNET_NATIVE_SEED=${seed})`, () => {
  const native = loadNativeKernels();
  const tag = (i: number, what: string) => `seed ${seed}, case ${i}: ${what}`;

  // The products on every micro-kernel this processor has (the tile width changes the packing,
  // so each is checked on the same cases).
  const initialIsa = native.info().isa;
  for (const isa of native.info().isas) {
    describe(`on the ${isa} micro-kernel`, () => {
      beforeAll(() => native.setIsa(isa));
      afterAll(() => native.setIsa(initialIsa));

    it(`gemm: ${CASES} random products (transposes, batches, broadcast, epilogues)`, () => {
      const r = generator(seed ^ 0x1001);
      for (let i = 0; i < CASES; i++) {
        const m = r.pick([r.int(1, 13), r.int(1, 160)]), n = r.pick([r.int(1, 40), r.int(1, 200)]);
        const k = r.pick([r.int(0, 20), r.int(1, 300), r.int(250, 600)]);
        const batch = r.int(1, 3), batchA = r.pick([1, batch]), batchB = r.pick([1, batch]);
        const transA = r.next() < 0.5, transB = r.next() < 0.5;
        const bias = r.next() < 0.5 ? randomArray(n, r.int(0, 1e9)) : null;
        const activation = r.pick(Object.keys(activations) as NativeActivation[]);
        const what = `gemm batch ${batch} (a ${batchA}, b ${batchB}) ${m}×${k} · ${k}×${n} transA=${transA} transB=${transB} bias=${!!bias} ${activation}`;
        const a = randomArray(batchA * m * k, r.int(0, 1e9)), b = randomArray(batchB * k * n, r.int(0, 1e9));
        const c = new Float32Array(batch * m * n).fill(Number.NaN);
        native.gemm({ a, b, c, m, n, k, transA, transB, batch, batchA, batchB, bias, activation, alpha: 0.1 });
        for (let j = 0; j < batch; j++) {
          const ref = refGemm(a.subarray((batchA === 1 ? 0 : j) * m * k), b.subarray((batchB === 1 ? 0 : j) * k * n), m, n, k, transA, transB);
          expect(maxRelError(c.subarray(j * m * n, (j + 1) * m * n), withEpilogue(ref, n, bias, activation, 0.1)), tag(i, what)).toBeLessThan(1e-5);
        }
      }
    });

    it(`conv2d: ${CASES} random geometries with epilogues`, () => {
      const r = generator(seed ^ 0x2002);
      for (let i = 0; i < CASES; i++) {
        const geo = randomGeometry(r, false), g = geo.g;
        const bias = r.next() < 0.5 ? randomArray(g.outC, r.int(0, 1e9)) : null;
        const activation = r.pick(Object.keys(activations) as NativeActivation[]);
        const x = randomArray(g.batch * g.inH * g.inW * g.inC, r.int(0, 1e9)), f = randomArray(g.kh * g.kw * g.inC * g.outC, r.int(0, 1e9));
        const out = new Float32Array(g.batch * g.outH * g.outW * g.outC).fill(Number.NaN);
        native.conv2d(x, f, out, g, { bias, activation, alpha: 0.1 });
        const want = withEpilogue(refConv(x, f, g), g.outC, bias, activation, 0.1);
        expect(maxRelError(out, want), tag(i, `conv2d ${describeGeometry(geo)} bias=${!!bias} ${activation}`)).toBeLessThan(1e-5);
      }
    });

    it(`conv2dBackpropFilter: ${CASES} random geometries`, () => {
      const r = generator(seed ^ 0x3003);
      for (let i = 0; i < CASES; i++) {
        const geo = randomGeometry(r, false), g = geo.g;
        const x = randomArray(g.batch * g.inH * g.inW * g.inC, r.int(0, 1e9)), dy = randomArray(g.batch * g.outH * g.outW * g.outC, r.int(0, 1e9));
        const dw = new Float32Array(g.kh * g.kw * g.inC * g.outC).fill(Number.NaN);
        native.conv2dBackpropFilter(x, dy, dw, g);
        expect(maxRelError(dw, refConvFilterGrad(x, dy, g)), tag(i, `conv2dBackpropFilter ${describeGeometry(geo)}`)).toBeLessThan(1e-5);
      }
    });

    it(`conv2dBackpropInput: ${CASES} random stride-1 geometries`, () => {
      const r = generator(seed ^ 0x4004);
      for (let i = 0; i < CASES; i++) {
        const geo = randomGeometry(r, true), g = geo.g;
        const dy = randomArray(g.batch * g.outH * g.outW * g.outC, r.int(0, 1e9)), f = randomArray(g.kh * g.kw * g.inC * g.outC, r.int(0, 1e9));
        const dx = new Float32Array(g.batch * g.inH * g.inW * g.inC).fill(Number.NaN);
        native.conv2dBackpropInput(dy, f, dx, g);
        expect(maxRelError(dx, refConvInputGrad(dy, f, g)), tag(i, `conv2dBackpropInput ${describeGeometry(geo)}`)).toBeLessThan(1e-5);
      }
    });

    // Winograd's geometries, through Winograd and through the direct product.
    for (const winograd of [true, false]) {
      describe(winograd ? 'Winograd F(2×2, 3×3)' : 'Winograd off (the direct product)', () => {
        beforeAll(() => native.setWinograd(winograd));
        afterAll(() => native.setWinograd(true));

        it(`conv2d: ${CASES / 2} random 3×3 stride-1 geometries with epilogues`, () => {
          const r = generator(seed ^ 0x7007);
          for (let i = 0; i < CASES / 2; i++) {
            const geo = randomWinogradGeometry(r), g = geo.g;
            const bias = r.next() < 0.5 ? randomArray(g.outC, r.int(0, 1e9)) : null;
            const activation = r.pick(Object.keys(activations) as NativeActivation[]);
            const x = randomArray(g.batch * g.inH * g.inW * g.inC, r.int(0, 1e9)), f = randomArray(9 * g.inC * g.outC, r.int(0, 1e9));
            const out = new Float32Array(g.batch * g.outH * g.outW * g.outC).fill(Number.NaN);
            native.conv2d(x, f, out, g, { bias, activation, alpha: 0.1 });
            const want = withEpilogue(refConv(x, f, g), g.outC, bias, activation, 0.1);
            expect(maxRelError(out, want), tag(i, `conv2d ${describeGeometry(geo)} bias=${!!bias} ${activation} winograd=${winograd}`)).toBeLessThan(1e-5);
          }
        });

        it(`conv2dBackpropInput: ${CASES / 2} random 3×3 stride-1 geometries`, () => {
          const r = generator(seed ^ 0x8008);
          for (let i = 0; i < CASES / 2; i++) {
            const geo = randomWinogradGeometry(r), g = geo.g;
            const dy = randomArray(g.batch * g.outH * g.outW * g.outC, r.int(0, 1e9)), f = randomArray(9 * g.inC * g.outC, r.int(0, 1e9));
            const dx = new Float32Array(g.batch * g.inH * g.inW * g.inC).fill(Number.NaN);
            native.conv2dBackpropInput(dy, f, dx, g);
            expect(maxRelError(dx, refConvInputGrad(dy, f, g)), tag(i, `conv2dBackpropInput ${describeGeometry(geo)} winograd=${winograd}`)).toBeLessThan(1e-5);
          }
        });

        it(`conv2dBackpropFilter: ${CASES / 2} random 3×3 stride-1 geometries`, () => {
          const r = generator(seed ^ 0x9009);
          for (let i = 0; i < CASES / 2; i++) {
            const geo = randomWinogradGeometry(r), g = geo.g;
            const x = randomArray(g.batch * g.inH * g.inW * g.inC, r.int(0, 1e9)), dy = randomArray(g.batch * g.outH * g.outW * g.outC, r.int(0, 1e9));
            const dw = new Float32Array(9 * g.inC * g.outC).fill(Number.NaN);
            native.conv2dBackpropFilter(x, dy, dw, g);
            expect(maxRelError(dw, refConvFilterGrad(x, dy, g)), tag(i, `conv2dBackpropFilter ${describeGeometry(geo)} winograd=${winograd}`)).toBeLessThan(1e-5);
          }
        });
      });
    }
    });
  }

  it(`sumLeading: ${CASES} random shapes (some split over threads)`, () => {
    const r = generator(seed ^ 0x5005);
    for (let i = 0; i < CASES; i++) {
      const cols = r.pick([1, r.int(1, 40)]), rows = r.pick([1, r.int(1, 3000), r.int(1, 150_000 / cols)]);
      const x = randomArray(rows * cols, r.int(0, 1e9));
      const out = new Float32Array(cols).fill(Number.NaN);
      native.sumLeading(x, rows, cols, out);
      for (let c = 0; c < cols; c++) {
        let s = 0, abs = 0;
        for (let row = 0; row < rows; row++) {
          s += x[row * cols + c]!;
          abs += Math.abs(x[row * cols + c]!);
        }
        expect(Math.abs(out[c]! - s), tag(i, `sumLeading ${rows}×${cols}, column ${c}`)).toBeLessThanOrEqual(1e-6 * abs);
      }
    }
  });

  it(`copyColumns: ${CASES} random slices, copied exactly`, () => {
    const r = generator(seed ^ 0x6006);
    for (let i = 0; i < CASES; i++) {
      const srcCols = r.int(1, 20), colStart = r.int(0, srcCols), width = r.int(0, srcCols - colStart), rows = r.pick([1, r.int(1, 300), r.int(8000, 12000)]);
      const src = randomArray(rows * srcCols, r.int(0, 1e9));
      const dst = new Float32Array(rows * width).fill(Number.NaN);
      native.copyColumns(src, rows, srcCols, colStart, width, dst);
      const want = new Float32Array(rows * width);
      for (let row = 0; row < rows; row++) want.set(src.subarray(row * srcCols + colStart, row * srcCols + colStart + width), row * width);
      expect(Buffer.from(dst.buffer).equals(Buffer.from(want.buffer)), tag(i, `copyColumns ${rows}×${srcCols} [${colStart}, ${colStart + width})`)).toBe(true);
    }
  });

  it(`avgPoolGradValid: ${CASES} random VALID pools`, () => {
    const r = generator(seed ^ 0x7007);
    for (let i = 0; i < CASES; i++) {
      const inH = side(r), inW = side(r), filterH = r.int(1, Math.min(3, inH)), filterW = r.int(1, Math.min(3, inW));
      const strideH = r.int(1, 2), strideW = r.int(1, 2);
      const p = { batch: r.int(1, 3), inH, inW, channels: r.int(1, 20), outH: Math.floor((inH - filterH) / strideH) + 1, outW: Math.floor((inW - filterW) / strideW) + 1, filterH, filterW, strideH, strideW };
      const dy = randomArray(p.batch * p.outH * p.outW * p.channels, r.int(0, 1e9));
      const dx = new Float32Array(p.batch * inH * inW * p.channels).fill(Number.NaN);
      native.avgPoolGradValid(dy, dx, p);
      const want = new Float64Array(dx.length);
      for (let b = 0; b < p.batch; b++)
        for (let oy = 0; oy < p.outH; oy++)
          for (let ox = 0; ox < p.outW; ox++)
            for (let ky = 0; ky < filterH; ky++)
              for (let kx = 0; kx < filterW; kx++)
                for (let c = 0; c < p.channels; c++) {
                  const xi = ((b * inH + oy * strideH + ky) * inW + ox * strideW + kx) * p.channels + c;
                  want[xi] = want[xi]! + dy[((b * p.outH + oy) * p.outW + ox) * p.channels + c]! / (filterH * filterW);
                }
      expect(maxRelError(dx, want), tag(i, `avgPoolGradValid ${JSON.stringify(p)}`)).toBeLessThan(1e-6);
    }
  });
});
