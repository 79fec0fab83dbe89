/** Plain float64 loops, written from the definitions, to check the addon against. */
export function refGemm(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i]! : a[i * k + p]!) * (transB ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  return c;
}

export interface Geometry {
  batch: number; inH: number; inW: number; inC: number; outH: number; outW: number; outC: number;
  kh: number; kw: number; strideH: number; strideW: number; dilH: number; dilW: number; padTop: number; padLeft: number;
}

/** Calls fn(xIndex, yIndex, wIndex) for every (input, output, weight) triple a convolution multiplies. */
function forEachProduct(g: Geometry, fn: (xi: number, yi: number, wi: number) => void): void {
  for (let b = 0; b < g.batch; b++)
    for (let oy = 0; oy < g.outH; oy++)
      for (let ox = 0; ox < g.outW; ox++)
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const y = oy * g.strideH - g.padTop + ky * g.dilH;
            const xx = ox * g.strideW - g.padLeft + kx * g.dilW;
            if (y < 0 || y >= g.inH || xx < 0 || xx >= g.inW) continue;
            for (let ci = 0; ci < g.inC; ci++)
              for (let co = 0; co < g.outC; co++) {
                fn(((b * g.inH + y) * g.inW + xx) * g.inC + ci, ((b * g.outH + oy) * g.outW + ox) * g.outC + co, ((ky * g.kw + kx) * g.inC + ci) * g.outC + co);
              }
          }
}

/** y = conv(x, f): out[b,oy,ox,co] = Σ x[b, oy·s − pad + ky·d, ox·s − pad + kx·d, ci] · f[ky,kx,ci,co]. */
export function refConv(x: Float32Array, f: Float32Array, g: Geometry): Float64Array {
  const out = new Float64Array(g.batch * g.outH * g.outW * g.outC);
  forEachProduct(g, (xi, yi, wi) => (out[yi] = out[yi]! + x[xi]! * f[wi]!));
  return out;
}

/** dL/dW of refConv for upstream gradient dy. */
export function refConvFilterGrad(x: Float32Array, dy: Float32Array, g: Geometry): Float64Array {
  const dw = new Float64Array(g.kh * g.kw * g.inC * g.outC);
  forEachProduct(g, (xi, yi, wi) => (dw[wi] = dw[wi]! + x[xi]! * dy[yi]!));
  return dw;
}

/** dL/dx of refConv for upstream gradient dy. */
export function refConvInputGrad(dy: Float32Array, f: Float32Array, g: Geometry): Float64Array {
  const dx = new Float64Array(g.batch * g.inH * g.inW * g.inC);
  forEachProduct(g, (xi, yi, wi) => (dx[xi] = dx[xi]! + dy[yi]! * f[wi]!));
  return dx;
}

/** A small deterministic generator (mulberry32), values in [-1, 1). */
export function randomArray(length: number, seed: number): Float32Array {
  let t = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    out[i] = (((r ^ (r >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Largest |a-b| relative to the largest |b| (or 1). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
  return err / scale;
}

