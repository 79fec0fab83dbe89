import { describe, expect, it, onTestFinished } from 'vitest';
import { loadNativeKernels } from '../src/index.js';
import { compilerPresent } from './addon.js';
import { randomArray } from './reference.js';

// The element-wise and layout kernels the native backend runs, against plain loops written from
// their definitions (float64), and their argument checks. Sizes above 2^15 so the pool splits them.

describe.skipIf(!compilerPresent)('@probunet/native element-wise and layout kernels', () => {
  const native = loadNativeKernels();
  const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  };

  it('binary: whole, scalar and repeating operands (a bias over 70,000 values)', () => {
    const n = 70_000;
    const a = randomArray(n, 1);
    const bias = randomArray(7, 2);
    const out = new Float32Array(n);
    native.binary('add', a, bias, out);
    expect(maxAbs(out, Array.from(a, (v, i) => v + bias[i % 7]!))).toBeLessThan(1e-6);
    native.binary('div', new Float32Array([3]), a, out);
    expect(maxAbs(out, Array.from(a, (v) => Math.fround(3 / v)))).toBe(0);
    native.binary('squaredDifference', a, new Float32Array([0.5]), out);
    expect(maxAbs(out, Array.from(a, (v) => Math.fround(Math.fround(v - 0.5) ** 2)))).toBe(0);
    expect(() => native.binary('add', a, new Float32Array(6), out)).toThrow(/b has 6 values, which must divide out's 70000/);
    expect(() => native.binary('pow' as never, a, a, out)).toThrow(/unknown binary op "pow"/);
  });

  it('binaryStrided: a per-image vector over positions, and out-of-range strides refused', () => {
    const [b, p, c] = [4, 3000, 8];
    const x = randomArray(b * p * c, 3);
    const v = randomArray(b * c, 4);
    const out = new Float32Array(b * p * c);
    native.binaryStrided('mul', x, [0, p * c, c, 1], v, [0, c, 0, 1], out, [1, b, p, c]);
    const want = Array.from(x, (xv, i) => xv * v[Math.floor(i / (p * c)) * c + (i % c)]!);
    expect(maxAbs(out, want)).toBeLessThan(1e-6);
    expect(() => native.binaryStrided('mul', x, [0, p * c, c, 1], v, [0, c + 1, 0, 1], out, [1, b, p, c])).toThrow(/b has 32 values, the shapes need 35/);
  });

  it('unary: each op as its definition; Step keeps NaN and takes alpha', () => {
    const x = new Float32Array([-2, -0.5, 0, 0.5, 2, NaN, Infinity, -Infinity]);
    const out = new Float32Array(x.length);
    native.unary('step', x, out, 0.25);
    expect(Array.from(out).map(String)).toEqual(['0.25', '0.25', '0.25', '1', '1', 'NaN', '1', '0.25']);
    native.unary('relu', x, out);
    expect(Array.from(out).map(String)).toEqual(['0', '0', '0', '0.5', '2', 'NaN', 'Infinity', '0']);
    const big = randomArray(40_000, 5);
    const o = new Float32Array(big.length);
    const defs: Array<[Parameters<typeof native.unary>[0], (v: number) => number]> = [
      ['exp', Math.exp],
      ['sigmoid', (v) => 1 / (1 + Math.exp(-v))],
      ['tanh', Math.tanh],
      ['softplus', (v) => Math.log1p(Math.exp(v))],
      ['square', (v) => v * v],
      ['neg', (v) => -v],
      ['abs', Math.abs],
    ];
    for (const [op, def] of defs) {
      native.unary(op, big, o);
      expect(maxAbs(o, Array.from(big, def)), op).toBeLessThan(1e-5);
    }
    expect(() => native.unary('exp', big, new Float32Array(3))).toThrow(/x has 40000 values and out 3/);
  });

  it('addN sums every input; mismatched lengths are refused', () => {
    const xs = [1, 2, 3].map((s) => randomArray(50_000, s));
    const out = new Float32Array(50_000);
    native.addN(xs, out);
    expect(maxAbs(out, Array.from(out, (_, i) => xs[0]![i]! + xs[1]![i]! + xs[2]![i]!))).toBeLessThan(1e-6);
    expect(() => native.addN([xs[0]!, new Float32Array(5)], out)).toThrow(/xs\[1\] has 5 values, out 50000/);
  });

  it('sumAxes over leading, middle and trailing runs', () => {
    const [o, r, c] = [5, 700, 9];
    const x = randomArray(o * r * c, 6);
    const want = (outer: number, rows: number, cols: number) => {
      const w = new Float64Array(outer * cols);
      for (let i = 0; i < outer; i++) for (let j = 0; j < rows; j++) for (let k = 0; k < cols; k++) w[i * cols + k] = w[i * cols + k]! + x[(i * rows + j) * cols + k]!;
      return w;
    };
    for (const [outer, rows, cols] of [[1, o * r, c], [o, r, c], [o * r, c, 1]] as const) {
      const out = new Float32Array(outer * cols);
      native.sumAxes(x, outer, rows, cols, out);
      expect(maxAbs(out, want(outer, rows, cols))).toBeLessThan(1e-4);
    }
  });

  it('avgPoolValid and pasteColumns as their definitions', () => {
    const p = { batch: 2, inH: 6, inW: 6, channels: 3, outH: 3, outW: 3, filterH: 2, filterW: 2, strideH: 2, strideW: 2 };
    const x = randomArray(2 * 6 * 6 * 3, 7);
    const out = new Float32Array(2 * 3 * 3 * 3);
    native.avgPoolValid(x, out, p);
    const at = (b: number, y: number, xx: number, ch: number) => x[((b * 6 + y) * 6 + xx) * 3 + ch]!;
    const want = Array.from(out, (_, i) => {
      const ch = i % 3, ox = Math.floor(i / 3) % 3, oy = Math.floor(i / 9) % 3, b = Math.floor(i / 27);
      return (at(b, 2 * oy, 2 * ox, ch) + at(b, 2 * oy + 1, 2 * ox, ch) + at(b, 2 * oy, 2 * ox + 1, ch) + at(b, 2 * oy + 1, 2 * ox + 1, ch)) / 4;
    });
    expect(maxAbs(out, want)).toBeLessThan(1e-6);
    expect(() => native.avgPoolValid(x, out, { ...p, outH: 4 })).toThrow(/VALID pooling only/);
    const dst = new Float32Array(4 * 5).fill(-1);
    native.pasteColumns(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), 4, 2, dst, 5, 3);
    expect(Array.from(dst)).toEqual([-1, -1, -1, 1, 2, -1, -1, -1, 3, 4, -1, -1, -1, 5, 6, -1, -1, -1, 7, 8]);
    expect(() => native.pasteColumns(new Float32Array(8), 4, 2, dst, 5, 4)).toThrow(/colStart \+ width exceeds dstCols/);
  });

  it('resizeBilinear ×2 with aligned corners: the corners kept, the midpoints averaged; the gradient is its transpose', () => {
    const x = new Float32Array([0, 1, 2, 3]); // 1×2×2×1
    const out = new Float32Array(9);
    const r = { batch: 1, inH: 2, inW: 2, channels: 1, outH: 3, outW: 3, alignCorners: true, halfPixelCenters: false };
    native.resizeBilinear(x, out, r);
    expect(Array.from(out)).toEqual([0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
    // ⟨resize(x), g⟩ = ⟨x, grad(g)⟩ for any g: the gradient is the adjoint.
    const xs = randomArray(2 * 5 * 4 * 3, 8);
    const g = randomArray(2 * 9 * 7 * 3, 9);
    const geometry = { batch: 2, inH: 5, inW: 4, channels: 3, outH: 9, outW: 7, alignCorners: true, halfPixelCenters: false };
    const up = new Float32Array(g.length);
    native.resizeBilinear(xs, up, geometry);
    const dx = new Float32Array(xs.length);
    native.resizeBilinearGrad(g, dx, geometry);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    expect(Math.abs(dot(up, g) - dot(xs, dx))).toBeLessThan(1e-3);
  });

  it('maxAxes over leading, middle and trailing runs; NaN propagates; no rows is refused', () => {
    const [o, r, c] = [7, 300, 40];
    const x = randomArray(o * r * c, 41);
    const out = new Float32Array(o * c);
    native.maxAxes(x, o, r, c, out);
    const want = new Array<number>(o * c).fill(-Infinity);
    for (let i = 0; i < o; i++) for (let j = 0; j < r; j++) for (let k = 0; k < c; k++) want[i * c + k] = Math.max(want[i * c + k]!, x[(i * r + j) * c + k]!);
    expect(maxAbs(out, want)).toBe(0);
    const t = new Float32Array(2);
    native.maxAxes(new Float32Array([1, NaN, 3, -5, 2, 0]), 2, 3, 1, t);
    expect(Array.from(t).map(String)).toEqual(['NaN', '2']);
    expect(() => native.maxAxes(x, o, 0, c, out)).toThrow(/rows ≥ 1/);
  });

  it('reluGradBias: dy · step(y) and its column sums in one pass, NaN and Infinity as the chain gives them', () => {
    const [rows, cols] = [9000, 12];
    const dy = randomArray(rows * cols, 11);
    const y = randomArray(rows * cols, 12);
    const dx = new Float32Array(rows * cols);
    const db = new Float32Array(cols);
    native.reluGradBias(dy, y, dx, db, rows, cols);
    expect(maxAbs(dx, Array.from(dy, (d, i) => (y[i]! > 0 ? d : 0)))).toBe(0);
    const want = new Array<number>(cols).fill(0);
    for (let i = 0; i < rows * cols; i++) if (y[i]! > 0) want[i % cols]! += dy[i]!;
    expect(maxAbs(db, want)).toBeLessThan(1e-4);
    // Step(NaN) is NaN; ±Infinity · 0 is NaN (as dy · step(y) computes it); in place (dx = dy).
    const d2 = new Float32Array([1, Infinity, 2, -3, 4, 5]);
    native.reluGradBias(d2, new Float32Array([NaN, -1, 0, 2, 1, -0.5]), d2, new Float32Array(3), 2, 3);
    expect(Array.from(d2).map(String)).toEqual(['NaN', 'NaN', '0', '-3', '4', '0']);
    expect(() => native.reluGradBias(dy, y, dx, new Float32Array(5), rows, cols)).toThrow(/db has 5 values, the shapes need 12/);
  });

  it('adamUpdate: the step as its float32 definition, first and later steps, Σu², argument errors', () => {
    const n = 50_000;
    const [w, g, m, v] = [randomArray(n, 21), randomArray(n, 22), randomArray(n, 23), randomArray(n, 24).map(Math.abs)];
    const h = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, stepSize: 0.001 * Math.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3) };
    const f = Math.fround;
    const [b1, c1, b2, c2, eps, step] = [h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.epsilon, h.stepSize].map(f) as [number, number, number, number, number, number];
    const out = { w: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) };
    for (const first of [false, true]) {
      const sumSq = native.adamUpdate(w, g, first ? null : m, first ? null : v, out, h);
      let total = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const mi = first ? f(g[i]! * c1) : f(f(m[i]! * b1) + f(g[i]! * c1));
        const vi = first ? f(f(g[i]! * g[i]!) * c2) : f(f(v[i]! * b2) + f(f(g[i]! * g[i]!) * c2));
        const u = f(f(mi / f(f(Math.sqrt(vi)) + eps)) * step);
        worst = Math.max(worst, Math.abs(out.m[i]! - mi), Math.abs(out.v[i]! - vi), Math.abs(out.w[i]! - f(w[i]! - u)));
        total += u * u;
      }
      expect(worst).toBe(0);
      expect(Math.abs(sumSq - total) / total).toBeLessThan(1e-5);
    }
    // In place, and a NaN gradient shows in Σu².
    const w2 = new Float32Array([1, 2]);
    expect(native.adamUpdate(w2, new Float32Array([NaN, 1]), null, null, { w: w2, m: new Float32Array(2), v: new Float32Array(2) }, h)).toBeNaN();
    expect(w2[0]).toBeNaN();
    expect(() => native.adamUpdate(w, g, m, null, out, h)).toThrow(/m and v must both be given/);
    expect(() => native.adamUpdate(w, g.subarray(1), null, null, out, h)).toThrow(/g has 49999 values, w 50000/);
    expect(() => native.adamUpdate(w, g, null, null, out, { ...h, epsilon: NaN })).toThrow(/hyperparameters must be finite/);
  });

  it('sumSquares: Σx² against a float64 loop (split over threads), 0 for none, NaN and Infinity through', () => {
    for (const n of [1, 255, 256, 257, 100_003]) {
      const x = randomArray(n, 40 + n);
      let want = 0;
      for (const v of x) want += v * v;
      expect(Math.abs(native.sumSquares(x) - want) / want, `n = ${n}`).toBeLessThan(1e-6);
    }
    expect(native.sumSquares(new Float32Array(0))).toBe(0);
    expect(native.sumSquares(Float32Array.from([1, NaN, 2]))).toBeNaN();
    expect(native.sumSquares(Float32Array.from([1, -Infinity]))).toBe(Infinity);
    expect(native.sumSquares(Float32Array.from([3e38, 3e38]))).toBe(Infinity); // x² overflows float32, as the chain's Square does
    expect(() => native.sumSquares([1, 2] as never)).toThrow(/x must be a Float32Array/);
  });

  it('softmaxLogLikelihood and its gradient: against float64 loops (ignored rows, 24 classes, split over threads), stable at logits of 10⁴, NaN kept to its draw', () => {
    const [groups, draws, rows, classes] = [3, 5, 700, 24];
    const shape = { groups, draws, rows, classes };
    const x = randomArray(groups * draws * rows * classes, 51).map((v) => v * 6);
    const t = new Float32Array(groups * rows * classes);
    for (let g = 0; g < groups; g++) for (let p = 0; p < rows; p++) if (p % 7 !== 3) t[(g * rows + p) * classes + ((p * 5 + g) % classes)] = 1;
    const ll = new Float32Array(groups * draws);
    const lse = new Float32Array(groups * draws * rows);
    native.softmaxLogLikelihood(x, t, ll, lse, shape);
    const wantLse = new Float64Array(lse.length);
    const wantLl = new Float64Array(ll.length);
    for (let gs = 0; gs < groups * draws; gs++) {
      const g = Math.floor(gs / draws);
      for (let p = 0; p < rows; p++) {
        let s = 0;
        for (let k = 0; k < classes; k++) s += Math.exp(x[(gs * rows + p) * classes + k]!);
        const l = Math.log(s);
        wantLse[gs * rows + p] = l;
        for (let k = 0; k < classes; k++) wantLl[gs] = wantLl[gs]! + t[(g * rows + p) * classes + k]! * (x[(gs * rows + p) * classes + k]! - l);
      }
    }
    expect(maxAbs(lse, wantLse)).toBeLessThan(1e-5);
    for (let i = 0; i < ll.length; i++) expect(Math.abs(ll[i]! - wantLl[i]!) / Math.abs(wantLl[i]!), `draw ${i}`).toBeLessThan(1e-6);
    const dll = randomArray(groups * draws, 52);
    const dx = new Float32Array(x.length);
    native.softmaxLogLikelihoodGrad(x, t, lse, dll, dx, shape);
    const wantDx = Array.from(x, (xv, i) => {
      const gs = Math.floor(i / (rows * classes));
      const p = Math.floor(i / classes) % rows;
      const row = (Math.floor(gs / draws) * rows + p) * classes;
      let m = 0;
      for (let k = 0; k < classes; k++) m += t[row + k]!;
      return dll[gs]! * (t[row + (i % classes)]! - Math.exp(xv - wantLse[gs * rows + p]!) * m);
    });
    expect(maxAbs(dx, wantDx)).toBeLessThan(1e-6);

    // Logits far from 0: max + log Σ exp(x − max) neither overflows nor loses the labels' terms.
    const big = Float32Array.from([1e4, 0, -1e4, 3e4 + 1, 3e4, 0]);
    const one = new Float32Array(2);
    const lse2 = new Float32Array(2);
    native.softmaxLogLikelihood(big, Float32Array.from([0, 1, 0]), one, lse2, { groups: 1, draws: 2, rows: 1, classes: 3 });
    expect(one[0]).toBeCloseTo(-1e4, 0);
    expect(one[1]).toBeCloseTo(-1 - Math.log1p(Math.exp(-1)), 2); // float32 spacing at 3·10⁴ is 0.002

    // A NaN logit poisons its own draw only (as the chain of kernels does).
    x[(1 * rows + 10) * classes + 4] = NaN;
    native.softmaxLogLikelihood(x, t, ll, lse, shape);
    expect(Number.isNaN(ll[1]!)).toBe(true);
    expect(ll.filter((v) => Number.isNaN(v))).toHaveLength(1);
    expect(() => native.softmaxLogLikelihood(x, t.subarray(1), ll, lse, shape)).toThrow(/t has 50399 values, the shapes need 50400/);
    expect(() => native.softmaxLogLikelihoodGrad(x, t, lse, dll.subarray(1), dx, shape)).toThrow(/dll has 14 values, the shapes need 15/);
  });

  it('randomNormal: standard-normal moments and quantiles over 10⁶ values, a function of (seed, index) only, not of the thread count', () => {
    const n = 1_000_001; // odd: the last pair's second value is dropped
    const x = new Float32Array(n);
    native.randomNormal(x, 12345);
    let sum = 0;
    let sq = 0;
    let below = 0; // P(X < 1.959964) = 0.975
    let belowNeg = 0; // P(X < −1) = 0.158655
    let maxAbsValue = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
      if (v < 1.959964) below++;
      if (v < -1) belowNeg++;
      maxAbsValue = Math.max(maxAbsValue, Math.abs(v));
    }
    // Standard errors: mean 0.001, variance 0.0014, proportions 0.00016 and 0.00037: bounds at ≈ 5 s.e.
    expect(Math.abs(sum / n)).toBeLessThan(0.005);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.007);
    expect(Math.abs(below / n - 0.975)).toBeLessThan(0.0008);
    expect(Math.abs(belowNeg / n - 0.158655)).toBeLessThan(0.0019);
    expect(maxAbsValue).toBeGreaterThan(4);
    expect(maxAbsValue).toBeLessThan(5.3);
    const again = new Float32Array(n);
    native.setThreads(1);
    onTestFinished(() => native.setThreads(0));
    native.randomNormal(again, 12345);
    expect(again).toEqual(x);
    native.randomNormal(again, 12346);
    let same = 0;
    for (let i = 0; i < n; i++) if (again[i] === x[i]) same++;
    expect(same).toBeLessThan(10);
    expect(() => native.randomNormal(x, -1)).toThrow(/seed must be a non-negative integer/);
    // 2^24 values: every value finite, the extremes of the 2^23 cells included (a 2^24-cell version
    // rounded its top cell's midpoint to 1 and gave NaN about once in 2^24 values).
    const many = new Float32Array(2 ** 24);
    native.randomNormal(many, 7);
    let worst = 0;
    let notFinite = 0;
    for (let i = 0; i < many.length; i++) {
      const v = Math.abs(many[i]!);
      if (v > worst) worst = v;
      else if (!(v <= worst)) notFinite++;
    }
    expect(notFinite).toBe(0);
    expect(worst).toBeLessThan(5.3);
  });

  it('large scratch blocks (the padded input of a filter gradient) are reused, not allocated again, and the results do not change', () => {
    // The zero-padded input of the direct product (Winograd pads nothing): 2·66·66·16 floats = 557 KB,
    // above the 256 KB from which blocks are cached.
    native.setWinograd(false);
    onTestFinished(() => native.setWinograd(true));
    const g = { batch: 2, inH: 64, inW: 64, inC: 16, outH: 64, outW: 64, outC: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 };
    const x = randomArray(2 * 64 * 64 * 16, 33);
    const dy = randomArray(2 * 64 * 64 * 16, 34);
    const a = new Float32Array(9 * 16 * 16);
    native.conv2dBackpropFilter(x, dy, a, g);
    const before = native.info().scratchCache;
    expect(before.freeBytes).toBeGreaterThanOrEqual(2 * 66 * 66 * 16 * 4);
    const b = new Float32Array(9 * 16 * 16);
    native.conv2dBackpropFilter(x, dy, b, g);
    const after = native.info().scratchCache;
    expect(after.reused).toBeGreaterThan(before.reused);
    expect(after.allocated).toBe(before.allocated);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('a free scratch block serves a request of any smaller size (above 256 KB), so a large block is not freed and faulted back', () => {
    const geometry = (batch: number, hw: number, c: number) => ({ batch, inH: hw, inW: hw, inC: c, outH: hw, outW: hw, outC: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 });
    native.setWinograd(false); // the direct product pads the input; Winograd does not
    onTestFinished(() => native.setWinograd(true));
    const run = (g: ReturnType<typeof geometry>) => {
      const x = randomArray(g.batch * g.inH * g.inW * g.inC, 35);
      const dy = randomArray(g.batch * g.outH * g.outW * g.outC, 36);
      native.conv2dBackpropFilter(x, dy, new Float32Array(9 * g.inC * 16), g);
    };
    run(geometry(2, 128, 64)); // pads 2·130·130·64 floats: 8.7 MB, larger than any block before it
    const before = native.info().scratchCache;
    run(geometry(1, 64, 64)); // pads 66·66·64 floats: 1.1 MB, served from the 8.7 MB block
    const after = native.info().scratchCache;
    expect(after.allocated).toBe(before.allocated);
    expect(after.reused).toBeGreaterThan(before.reused);
  });
});
