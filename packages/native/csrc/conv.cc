// NHWC convolutions as implicit-im2col matrix products on the blocked GEMM (gemm-driver.h): the A
// panels are read in place or packed straight from the input, so no im2col matrix is ever
// materialised. 3×3 stride-1 layers with enough channels go to Winograd instead (winograd.h).
#include "conv.h"

#include <cstring>

#include "gemm-driver.h"
#include "winograd.h"

namespace probunet {
using namespace detail;

namespace {

// MR-row packed panels of a convolution's A (rows [i0, i0+mc), columns [p0, p0+kc)) copied from
// its segments, read with its stride.
template <typename ConvPacker>
void pack_from_segments(const ConvPacker& A, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  Scratch<Segment> segs = alloc_scratch<Segment>(kc, "convolution segments");
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - ir);
    const int64_t n = A.segments(i0 + ir, rows, p0, kc, segs.get());
    pack_segments(segs.get(), n, rows, A.stride(), dst + ir * kc);
  }
}

// The im2col matrix of an NHWC convolution, never materialised: row i = (b, oy, ox), column
// p = (ky, kx, ci) with ci fastest, matching a [kh, kw, inC, outC] filter read as [kh*kw*inC, outC].
struct ConvA {
  const ConvShape* s;
  const float* x;
  // Packing a convolution's panels is a gather, so reading in place pays up to wider products: with
  // 16-wide tiles up to 64 columns; with 32-wide (AVX-512) tiles up to 320, measured on the LIDC
  // step's convolutions (2 threads, batch 8, 2026-12-01, Zen 5): forward 32²×320→128 354 → 404
  // GFLOP/s, its input gradient 326 → 407, 64²×192→64's 356 → 406.
  template <int NR>
  static constexpr int64_t in_place_max_cols() { return NR == 32 ? 320 : 64; }
  bool in_place() const { return true; }
  // Rows [i0, i0+rows) (rows ≤ MR; missing rows repeat the last) over columns [p0, p0+kc): one
  // segment per filter tap the block touches. Returns the number of segments written.
  int64_t segments(int64_t i0, int64_t rows, int64_t p0, int64_t kc, Segment* out) const {
    const ConvShape& g = *s;
    // Each row's receptive-field corner and image. The rows are consecutive output positions:
    // decode the first, then step (divisions cost as much as the rest of this function).
    int64_t y0[MR], x0[MR];
    const float* xb[MR];
    {
      int64_t ox = i0 % g.outW, oy = (i0 / g.outW) % g.outH, b = i0 / (g.outW * g.outH);
      for (int r = 0; r < MR; ++r) {
        y0[r] = oy * g.strideH - g.padTop;
        x0[r] = ox * g.strideW - g.padLeft;
        xb[r] = x + b * g.inH * g.inW * g.inC;
        if (r + 1 >= rows) continue;  // missing rows repeat the last
        if (++ox == g.outW) {
          ox = 0;
          if (++oy == g.outH) {
            oy = 0;
            ++b;
          }
        }
      }
    }
    int64_t n = 0;
    int64_t p = p0;
    int64_t ci = p % g.inC;
    const int64_t tap0 = p / g.inC;
    int64_t ky = tap0 / g.kw, kx = tap0 % g.kw;
    while (p < p0 + kc) {
      const int64_t run = std::min(g.inC - ci, p0 + kc - p);
      Segment& seg = out[n++];
      seg.len = run;
      const int64_t dy = ky * g.dilH, dx = kx * g.dilW;
      for (int r = 0; r < MR; ++r) {
        const int64_t y = y0[r] + dy, xx = x0[r] + dx;
        seg.p[r] = (y < 0 || y >= g.inH || xx < 0 || xx >= g.inW) ? zeros() : xb[r] + (y * g.inW + xx) * g.inC + ci;
      }
      p += run;
      ci = 0;
      if (++kx == g.kw) {
        kx = 0;
        ++ky;
      }
    }
    return n;
  }
  int64_t stride() const { return 1; }
  // Packed panels, copied from the same segments (rows past mc are zero).
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const { pack_from_segments(*this, i0, mc, p0, kc, dst); }
};

// The transposed im2col matrix of a convolution over a padded input (so that every tap of every
// output position is in bounds): row i = (ky, kx, ci) with ci fastest, column p = (b, oy, ox). A
// block of rows at one column is up to six channels of one input pixel; along a run of columns in
// one output row the pixel advances by strideW·C floats. So a block reads in place as one segment
// per output row it touches, with stride strideW·C, and a filter gradient
// dW[(ky, kx, ci), co] = Σ_p im2colᵀ[(ky, kx, ci), p] · dy[p, co] comes out in the filter's own
// layout, with no output-channel tile left part-empty (dy is B, 16 channels to a panel).
struct ConvAT {
  const ConvShape* s;
  const float* xpad;  // [batch, hp, wp, inC]: rows start at -padTop, columns at -padLeft
  int64_t hp, wp;
  // Measured: packing pays beyond 64 columns with either tile width (with 32-wide tiles, reading
  // 128 columns in place took the 32²×128→128 filter gradient from 300 to 237 GFLOP/s).
  template <int NR>
  static constexpr int64_t in_place_max_cols() { return 64; }
  bool in_place() const { return true; }
  int64_t stride() const { return s->strideW * s->inC; }
  int64_t segments(int64_t i0, int64_t rows, int64_t p0, int64_t kc, Segment* out) const {
    const ConvShape& g = *s;
    int64_t off[MR];
    for (int r = 0; r < MR; ++r) {
      const int64_t i = i0 + std::min<int64_t>(r, rows - 1);
      const int64_t ci = i % g.inC, tap = i / g.inC;
      off[r] = ((tap / g.kw) * g.dilH * wp + (tap % g.kw) * g.dilW) * g.inC + ci;
    }
    int64_t n = 0;
    int64_t ox = p0 % g.outW, oy = (p0 / g.outW) % g.outH, b = p0 / (g.outW * g.outH);
    for (int64_t p = p0; p < p0 + kc;) {
      const int64_t run = std::min(g.outW - ox, p0 + kc - p);
      const float* base = xpad + ((b * hp + oy * g.strideH) * wp + ox * g.strideW) * g.inC;
      Segment& seg = out[n++];
      seg.len = run;
      for (int r = 0; r < MR; ++r) seg.p[r] = base + off[r];
      p += run;
      ox = 0;
      if (++oy == g.outH) {
        oy = 0;
        ++b;
      }
    }
    return n;
  }
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const { pack_from_segments(*this, i0, mc, p0, kc, dst); }
};

// The input zero-padded so that every tap of every output position lies inside it.
struct Padded {
  Scratch<float> data;
  int64_t hp, wp;
};
Padded pad_input(const ConvShape& s, const float* x) {
  const int64_t hp = (s.outH - 1) * s.strideH + (s.kh - 1) * s.dilH + 1;
  const int64_t wp = (s.outW - 1) * s.strideW + (s.kw - 1) * s.dilW + 1;
  Padded p{alloc_scratch<float>(s.batch * hp * wp * s.inC, "the padded input"), hp, wp};
  float* d = p.data.get();
  const int64_t rowFloats = wp * s.inC;
  // Input columns [x0, x1) land at padded columns [x0 + padLeft, x1 + padLeft).
  const int64_t x0 = std::max<int64_t>(0, -s.padLeft), x1 = std::min<int64_t>(s.inW, wp - s.padLeft);
  parallel_for(s.batch * hp, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t b = r / hp, yp = r % hp, y = yp - s.padTop;
      float* row = d + r * rowFloats;
      if (y < 0 || y >= s.inH || x1 <= x0) {
        std::memset(row, 0, sizeof(float) * rowFloats);
        continue;
      }
      const int64_t left = (x0 + s.padLeft) * s.inC, width = (x1 - x0) * s.inC;
      std::memset(row, 0, sizeof(float) * left);
      std::memcpy(row + left, x + ((b * s.inH + y) * s.inW + x0) * s.inC, sizeof(float) * width);
      std::memset(row + left + width, 0, sizeof(float) * (rowFloats - left - width));
    }
  });
  return p;
}

}  // namespace

void conv2d(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
  if (winograd_applies(s)) {
    conv2d_winograd(s, x, filter, out, ep);
    return;
  }
  const ConvA A{&s, x};
  const int64_t m = s.batch * s.outH * s.outW;
  const int64_t k = s.kh * s.kw * s.inC;
  gemm_dispatch(A, DenseB{filter, s.outC, 1}, m, s.outC, k, out, s.outC, ep);
}

void conv2d_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  if (winograd_applies(s)) {
    conv2d_backprop_filter_winograd(s, x, dy, dw);
    return;
  }
  // dW [kh·kw·inC, outC] = im2colᵀ · dy, im2colᵀ read in place from the padded input (ConvAT).
  // Measured against the earlier dWᵀ = dyᵀ · im2col (dy packed six output channels to a tile, im2col
  // rows read through one pointer per step, then transposed): 135 → 178 GFLOP/s on the LIDC step's
  // 128²×32→32 filter gradients, 154 → 192 on 64²×64→64, 16 → 81 on the 1-channel first layer
  // (2 threads, batch 8, 2026-12-01).
  const Padded p = pad_input(s, x);
  const ConvAT A{&s, p.data.get(), p.hp, p.wp};
  gemm_dispatch(A, DenseB{dy, s.outC, 1}, s.kh * s.kw * s.inC, s.outC, s.batch * s.outH * s.outW, dw, s.outC, Epilogue{});
}

void conv2d_backprop_input(const ConvShape& s, const float* dy, const float* filter, float* dx) {
  // dx = conv(dy, W rotated by 180° with its channel axes swapped), padded so that
  // oy = y - ((kh-1)·dil - padTop) + ky'·dil.
  const int64_t kk = s.kh * s.kw;
  Scratch<float> rotated = alloc_scratch<float>(kk * s.inC * s.outC, "the rotated filter");
  for (int64_t t = 0; t < kk; ++t) {
    const float* src = filter + (kk - 1 - t) * s.inC * s.outC;  // [ci, co]
    float* dst = rotated.get() + t * s.outC * s.inC;           // [co, ci]
    for (int64_t ci = 0; ci < s.inC; ++ci)
      for (int64_t co = 0; co < s.outC; ++co) dst[co * s.inC + ci] = src[ci * s.outC + co];
  }
  ConvShape t{s.batch, s.outH, s.outW, s.outC, s.inH, s.inW, s.inC, s.kh, s.kw, 1, 1, s.dilH, s.dilW,
              (s.kh - 1) * s.dilH - s.padTop, (s.kw - 1) * s.dilW - s.padLeft};
  conv2d(t, dy, rotated.get(), dx, Epilogue{});
}

}  // namespace probunet
