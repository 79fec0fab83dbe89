// A BLIS-style blocked SGEMM: B is packed in KC×NR panels, A in MR×KC panels, and a register-blocked
// micro-kernel does the arithmetic: 6×32 with AVX-512 where the processor has it, 6×16 with AVX2 +
// FMA, portable C++ otherwise (chosen at load time; set_isa switches). Everything that depends on
// the tile's width is a template over NR. Convolutions pack their A panels straight from the NHWC input (implicit
// im2col), so no im2col matrix is ever materialised. Work is split into tasks for the thread
// pool (parallel.h) by rows (or by columns when there are more columns than rows).
#include "gemm.h"

#if (defined(__x86_64__) || defined(__i386__)) && !defined(PROBUNET_NO_X86)
#define PROBUNET_X86 1
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "parallel.h"
#include "scratch.h"

namespace probunet {
namespace {

constexpr int MR = 6;
constexpr int64_t KC = 384;  // the longest K block; a product's K is cut into equal blocks up to this
constexpr int64_t MC = 144;   // multiple of MR
constexpr int64_t NC = 2048;  // multiple of NR
// B packed whole, when A is read in place, up to this many floats (384 KB: within a core's L2).
constexpr int64_t kWholeBFloats = 96 * 1024;

// ---------------------------------------------------------------- micro-kernels
// A 6×16 tile of C (+)= Σ over segments s, over q < len: A[r] · B[q], where row r's value is
// segs[s].p[r][q·stride]. Packed A panels are one segment with p[r] = panel + r and stride MR;
// unpacked A (a dense matrix's rows, or a convolution's taps) is one segment per contiguous run,
// stride 1. B is packed: 16 floats per step.
struct Segment {
  const float* p[MR];
  int64_t len;
};

#ifdef PROBUNET_X86
__attribute__((target("avx2,fma"))) void ukernel_avx2(const Segment* segs, int64_t nseg, int64_t stride,
                                                      const float* b, float* c,
                                                      int64_t ldc, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t s = 0; s < nseg; ++s) {
    const float *a0 = segs[s].p[0], *a1 = segs[s].p[1], *a2 = segs[s].p[2], *a3 = segs[s].p[3],
                *a4 = segs[s].p[4], *a5 = segs[s].p[5];
    const int64_t end = segs[s].len * stride;
    for (int64_t q = 0; q < end; q += stride) {
      const __m256 b0 = _mm256_loadu_ps(b);
      const __m256 b1 = _mm256_loadu_ps(b + 8);
      __m256 ar;
      ar = _mm256_broadcast_ss(a0 + q); c00 = _mm256_fmadd_ps(ar, b0, c00); c01 = _mm256_fmadd_ps(ar, b1, c01);
      ar = _mm256_broadcast_ss(a1 + q); c10 = _mm256_fmadd_ps(ar, b0, c10); c11 = _mm256_fmadd_ps(ar, b1, c11);
      ar = _mm256_broadcast_ss(a2 + q); c20 = _mm256_fmadd_ps(ar, b0, c20); c21 = _mm256_fmadd_ps(ar, b1, c21);
      ar = _mm256_broadcast_ss(a3 + q); c30 = _mm256_fmadd_ps(ar, b0, c30); c31 = _mm256_fmadd_ps(ar, b1, c31);
      ar = _mm256_broadcast_ss(a4 + q); c40 = _mm256_fmadd_ps(ar, b0, c40); c41 = _mm256_fmadd_ps(ar, b1, c41);
      ar = _mm256_broadcast_ss(a5 + q); c50 = _mm256_fmadd_ps(ar, b0, c50); c51 = _mm256_fmadd_ps(ar, b1, c51);
      b += 16;
    }
  }
  const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]));
      _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]));
    } else {
      _mm256_storeu_ps(cr, acc[r][0]);
      _mm256_storeu_ps(cr + 8, acc[r][1]);
    }
  }
}

// The same tile twice as wide: 6 rows × 32 columns in 12 zmm accumulators. On a processor with
// full-width 512-bit FMA units (AMD Zen 5, Intel server cores) this doubles the FMAs per
// instruction; where AVX-512 is split into two 256-bit halves (Zen 4) it halves the instructions.
__attribute__((target("avx512f"))) void ukernel_avx512(const Segment* segs, int64_t nseg, int64_t stride,
                                                      const float* b, float* c, int64_t ldc, bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  for (int64_t s = 0; s < nseg; ++s) {
    const float *a0 = segs[s].p[0], *a1 = segs[s].p[1], *a2 = segs[s].p[2], *a3 = segs[s].p[3],
                *a4 = segs[s].p[4], *a5 = segs[s].p[5];
    const int64_t end = segs[s].len * stride;
    for (int64_t q = 0; q < end; q += stride) {
      const __m512 b0 = _mm512_loadu_ps(b);
      const __m512 b1 = _mm512_loadu_ps(b + 16);
      __m512 ar;
      ar = _mm512_set1_ps(a0[q]); c00 = _mm512_fmadd_ps(ar, b0, c00); c01 = _mm512_fmadd_ps(ar, b1, c01);
      ar = _mm512_set1_ps(a1[q]); c10 = _mm512_fmadd_ps(ar, b0, c10); c11 = _mm512_fmadd_ps(ar, b1, c11);
      ar = _mm512_set1_ps(a2[q]); c20 = _mm512_fmadd_ps(ar, b0, c20); c21 = _mm512_fmadd_ps(ar, b1, c21);
      ar = _mm512_set1_ps(a3[q]); c30 = _mm512_fmadd_ps(ar, b0, c30); c31 = _mm512_fmadd_ps(ar, b1, c31);
      ar = _mm512_set1_ps(a4[q]); c40 = _mm512_fmadd_ps(ar, b0, c40); c41 = _mm512_fmadd_ps(ar, b1, c41);
      ar = _mm512_set1_ps(a5[q]); c50 = _mm512_fmadd_ps(ar, b0, c50); c51 = _mm512_fmadd_ps(ar, b1, c51);
      b += 32;
    }
  }
  const __m512 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]));
      _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]));
    } else {
      _mm512_storeu_ps(cr, acc[r][0]);
      _mm512_storeu_ps(cr + 16, acc[r][1]);
    }
  }
}

#endif  // PROBUNET_X86

template <int NR>
void ukernel_portable(const Segment* segs, int64_t nseg, int64_t stride, const float* b, float* c, int64_t ldc,
                      bool accumulate) {
  float acc[MR][NR] = {};
  for (int64_t s = 0; s < nseg; ++s) {
    for (int64_t q = 0; q < segs[s].len; ++q) {
      for (int r = 0; r < MR; ++r) {
        const float ar = segs[s].p[r][q * stride];
        for (int j = 0; j < NR; ++j) acc[r][j] += ar * b[j];
      }
      b += NR;
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
    for (int j = 0; j < NR; ++j) cr[j] = accumulate ? cr[j] + acc[r][j] : acc[r][j];
  }
}

// The processor's best kernel: PROBUNET_NATIVE_PORTABLE forces the portable one,
// PROBUNET_NATIVE_ISA=avx2|avx512|portable asks for one (ignored when the processor lacks it).
bool supports(Isa isa) {
#ifdef PROBUNET_X86
  __builtin_cpu_init();
  switch (isa) {
    case kIsaAvx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case kIsaAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return true;
  }
#else
  return isa == kIsaPortable;
#endif
}

Isa initial_isa() {
  if (std::getenv("PROBUNET_NATIVE_PORTABLE")) return kIsaPortable;
  if (const char* want = std::getenv("PROBUNET_NATIVE_ISA")) {
    const std::string w(want);
    const Isa asked = w == "avx512" ? kIsaAvx512 : w == "avx2" ? kIsaAvx2 : w == "portable" ? kIsaPortable : kIsaAvx512;
    for (Isa i = asked;; i = static_cast<Isa>(i - 1))
      if (supports(i) || i == kIsaPortable) return i;
  }
  return supports(kIsaAvx512) ? kIsaAvx512 : supports(kIsaAvx2) ? kIsaAvx2 : kIsaPortable;
}

std::atomic<int> g_isa{initial_isa()};

using Ukernel = void (*)(const Segment*, int64_t, int64_t, const float*, float*, int64_t, bool);

// The micro-kernel for a tile NR wide under the current ISA: AVX-512 is 32 wide, AVX2 16, the
// portable kernel takes either width (it is what runs under `portable`).
template <int NR>
Ukernel ukernel() {
#ifdef PROBUNET_X86
  if constexpr (NR == 32) {
    if (g_isa.load(std::memory_order_relaxed) == kIsaAvx512) return ukernel_avx512;
  } else {
    if (g_isa.load(std::memory_order_relaxed) == kIsaAvx2) return ukernel_avx2;
  }
#endif
  return ukernel_portable<NR>;
}

// Full tiles go straight to C; edge tiles through a scratch tile.
template <int NR>
inline void run_tile(Ukernel kernel, const Segment* segs, int64_t nseg, int64_t stride, const float* bp, float* c,
                     int64_t ldc, bool accumulate, int64_t rows, int64_t cols) {
  if (rows == MR && cols == NR) {
    kernel(segs, nseg, stride, bp, c, ldc, accumulate);
    return;
  }
  alignas(64) float tile[MR * NR];
  kernel(segs, nseg, stride, bp, tile, NR, false);
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    const float* tr = tile + r * NR;
    if (accumulate) {
      for (int64_t j = 0; j < cols; ++j) cr[j] += tr[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) cr[j] = tr[j];
    }
  }
}

// One segment over a packed A panel (kc × MR, interleaved).
inline Segment packed_segment(const float* panel, int64_t kc) {
  Segment seg;
  for (int r = 0; r < MR; ++r) seg.p[r] = panel + r;
  seg.len = kc;
  return seg;
}

// ---------------------------------------------------------------- operand packers
// KC zeros (no segment is longer), for padding and missing rows to point at.
const float* zeros() {
  static const std::vector<float> z(KC, 0.f);
  return z.data();
}

// One MR-row packed panel (kc × MR, interleaved) from segments read with `stride`; rows past
// `rows` are zero.
void pack_segments(const Segment* segs, int64_t n, int64_t rows, int64_t stride, float* d) {
  for (int64_t k = 0; k < n; ++k) {
    const Segment& seg = segs[k];
    const float *s0 = seg.p[0], *s1 = seg.p[1], *s2 = seg.p[2], *s3 = seg.p[3], *s4 = seg.p[4], *s5 = seg.p[5];
    for (int64_t q = 0; q < seg.len * stride; q += stride, d += MR) {
      d[0] = s0[q]; d[1] = s1[q]; d[2] = s2[q];
      d[3] = s3[q]; d[4] = s4[q]; d[5] = s5[q];
    }
  }
  // Rows past `rows` (the segments repeat the last real row there): zero.
  if (rows < MR) {
    int64_t total = 0;
    for (int64_t k = 0; k < n; ++k) total += segs[k].len;
    for (d -= total * MR; total > 0; --total, d += MR)
      for (int r = rows; r < MR; ++r) d[r] = 0.f;
  }
}

// A dense matrix, A[i,p] = a[i*rs + p*cs].
struct DenseA {
  const float* a;
  int64_t rs, cs;
  // Read in place (as one segment of six row pointers) when the product has at most this many
  // columns (beyond that, packed panels are reused enough to pay) and either its rows are
  // contiguous (stride 1 along a segment) or, transposed, its columns are (six rows at one column
  // are six contiguous floats; stride cs along a segment): a 1×1 convolution's filter gradient
  // xᵀ·dy, [C, N·H·W]·[N·H·W, C'], packed A and B for every few hundred products otherwise.
  template <int NR>
  static constexpr int64_t in_place_max_cols() { return 32; }
  bool in_place() const { return cs == 1 || rs == 1; }
  int64_t stride() const { return cs == 1 ? 1 : cs; }
  int64_t segments(int64_t i0, int64_t rows, int64_t p0, int64_t kc, Segment* out) const {
    out->len = kc;
    for (int r = 0; r < MR; ++r) out->p[r] = a + (i0 + std::min<int64_t>(r, rows - 1)) * rs + p0 * cs;
    return 1;
  }
  // dst: ceil(mc/MR) panels, each kc × MR, zero rows past mc.
  void pack(int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) const {
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t rows = std::min<int64_t>(MR, mc - ir);
      float* panel = dst + ir * kc;
      if (cs == 1) {
        Segment seg;
        segments(i0 + ir, rows, p0, kc, &seg);
        pack_segments(&seg, 1, rows, 1, panel);
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = a + (p0 + p) * cs + (i0 + ir) * rs;
          float* d = panel + p * MR;
          int64_t r = 0;
          for (; r < rows; ++r) d[r] = src[r * rs];
          for (; r < MR; ++r) d[r] = 0.f;
        }
      }
    }
  }
};

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


// B packers fill NR-column panels, each kc × NR, zero columns past nc.
// A dense B[p,j] = b[p*rs + j*cs].
struct DenseB {
  const float* b;
  int64_t rs, cs;
  template <int NR>
  void pack(int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) const {
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int64_t cols = std::min<int64_t>(NR, nc - jr);
      float* panel = dst + jr * kc;
      if (cs == 1) {
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = b + (p0 + p) * rs + j0 + jr;
          float* d = panel + p * NR;
          int64_t j = 0;
          for (; j < cols; ++j) d[j] = src[j];
          for (; j < NR; ++j) d[j] = 0.f;
        }
      } else {
        for (int64_t j = 0; j < NR; ++j) {
          if (j < cols) {
            const float* src = b + (j0 + jr + j) * cs + p0 * rs;
            for (int64_t p = 0; p < kc; ++p) panel[p * NR + j] = src[p * rs];
          } else {
            for (int64_t p = 0; p < kc; ++p) panel[p * NR + j] = 0.f;
          }
        }
      }
    }
  }
};

void apply_epilogue(float* c, int64_t ldc, int64_t rows, int64_t j0, int64_t cols, const Epilogue& ep) {
  if (!ep.bias && ep.activation == kLinear) return;
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * ldc + j0;
    if (ep.bias)
      for (int64_t j = 0; j < cols; ++j) cr[j] += ep.bias[j0 + j];
    switch (ep.activation) {
      case kRelu:
        for (int64_t j = 0; j < cols; ++j) cr[j] = cr[j] > 0.f ? cr[j] : 0.f;
        break;
      case kRelu6:
        for (int64_t j = 0; j < cols; ++j) cr[j] = std::min(6.f, std::max(0.f, cr[j]));
        break;
      case kLeakyRelu:
        for (int64_t j = 0; j < cols; ++j) cr[j] = cr[j] > 0.f ? cr[j] : ep.alpha * cr[j];
        break;
      case kSigmoid:
        for (int64_t j = 0; j < cols; ++j) cr[j] = 1.f / (1.f + std::exp(-cr[j]));
        break;
      case kElu:
        for (int64_t j = 0; j < cols; ++j) cr[j] = cr[j] > 0.f ? cr[j] : std::expm1(cr[j]);
        break;
      default:
        break;
    }
  }
}

// One thread's share: rows [m0,m1) × columns [n0,n1) of C.
// C rows [m0,m1) × columns [n0,n1) = the product over k in [k0,k1), then the epilogue.
template <int NR, typename APacker, typename BPacker>
void gemm_block(const APacker& A, const BPacker& B, int64_t k0, int64_t k1, float* c,
                int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1, const Epilogue& ep) {
  if (m1 <= m0 || n1 <= n0) return;
  const Ukernel kernel = ukernel<NR>();
  if (k1 <= k0) {
    for (int64_t i = m0; i < m1; ++i) std::fill(c + i * ldc + n0, c + i * ldc + n1, 0.f);
  } else {
    // Equal K blocks: a short last block (K = 288 as 256 + 32) would stream all of C again for
    // little arithmetic, which costs more than the block's own work.
    const int64_t kcMax = (k1 - k0 + (k1 - k0 + KC - 1) / KC - 1) / ((k1 - k0 + KC - 1) / KC);
    Scratch<float> ap = alloc_scratch<float>(((std::min(MC, m1 - m0) + MR - 1) / MR) * MR * kcMax, "packed A panels");
    Scratch<float> bp = alloc_scratch<float>(((std::min(NC, n1 - n0) + NR - 1) / NR) * NR * kcMax, "packed B panels");
    // For segment (unpacked) reads: at most one segment per element of a K block.
    Scratch<Segment> segs = alloc_scratch<Segment>(kcMax, "A segments");
    // For A read in place: B packed over all of K (allocated on first use).
    Scratch<float> bAll;
    const int64_t blocks = (k1 - k0 + kcMax - 1) / kcMax;
    for (int64_t jc = n0; jc < n1; jc += NC) {
      const int64_t nc = std::min(NC, n1 - jc);
      // Few columns (each packed element of A would serve only a couple of micro-tiles) or a
      // short reduction: packing A costs more than it saves. Read it in place, as segments
      // (measured: LIDC convs with 32 and 64 channels 130-140 -> 175-185 GFLOP/s on 2 cores;
      // wider ones gain nothing).
      const bool aInPlace = A.in_place() && (nc <= APacker::template in_place_max_cols<NR>() || k1 - k0 <= 64);
      const int64_t panelFloats = ((nc + NR - 1) / NR) * NR * kcMax;
      if (aInPlace && blocks * panelFloats <= kWholeBFloats) {
        // B packed whole (every K block; it stays in the core's L2), and each 6-row tile of C
        // finished over all of K before the next: C is written once, not once per K block (a
        // convolution's C is its whole output).
        if (!bAll) bAll = alloc_scratch<float>(blocks * panelFloats, "packed B panels");
        for (int64_t blk = 0; blk < blocks; ++blk) {
          const int64_t pc = k0 + blk * kcMax;
          B.template pack<NR>(pc, std::min(kcMax, k1 - pc), jc, nc, bAll.get() + blk * panelFloats);
        }
        for (int64_t ir = m0; ir < m1; ir += MR) {
          const int64_t rows = std::min<int64_t>(MR, m1 - ir);
          for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t pc = k0 + blk * kcMax;
            const int64_t kc = std::min(kcMax, k1 - pc);
            const int64_t nseg = A.segments(ir, rows, pc, kc, segs.get());
            const float* bBlock = bAll.get() + blk * panelFloats;
            for (int64_t jr = 0; jr < nc; jr += NR) {
              run_tile<NR>(kernel, segs.get(), nseg, A.stride(), bBlock + jr * kc, c + ir * ldc + jc + jr, ldc, blk > 0, rows,
                       std::min<int64_t>(NR, nc - jr));
            }
          }
        }
        continue;
      }
      if (aInPlace) {
        // A long reduction (a filter gradient): one K block at a time, its B panels reused by
        // every tile of C.
        for (int64_t pc = k0; pc < k1; pc += kcMax) {
          const int64_t kc = std::min(kcMax, k1 - pc);
          B.template pack<NR>(pc, kc, jc, nc, bp.get());
          for (int64_t ir = m0; ir < m1; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, m1 - ir);
            const int64_t nseg = A.segments(ir, rows, pc, kc, segs.get());
            for (int64_t jr = 0; jr < nc; jr += NR) {
              run_tile<NR>(kernel, segs.get(), nseg, A.stride(), bp.get() + jr * kc, c + ir * ldc + jc + jr, ldc, pc > k0, rows,
                       std::min<int64_t>(NR, nc - jr));
            }
          }
        }
        continue;
      }
      for (int64_t pc = k0; pc < k1; pc += kcMax) {
        const int64_t kc = std::min(kcMax, k1 - pc);
        B.template pack<NR>(pc, kc, jc, nc, bp.get());
        for (int64_t ic = m0; ic < m1; ic += MC) {
          const int64_t mc = std::min(MC, m1 - ic);
          A.pack(ic, mc, pc, kc, ap.get());
          for (int64_t jr = 0; jr < nc; jr += NR) {
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const Segment seg = packed_segment(ap.get() + ir * kc, kc);
              run_tile<NR>(kernel, &seg, 1, MR, bp.get() + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc, pc > k0,
                       std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr));
            }
          }
        }
      }
    }
  }
  apply_epilogue(c + m0 * ldc, ldc, m1 - m0, n0, n1 - n0, ep);
}

template <int NR, typename APacker, typename BPacker>
void gemm_parallel(const APacker& A, const BPacker& B, int64_t m, int64_t n, int64_t k,
                   float* c, int64_t ldc, const Epilogue& ep) {
  // Below ~4 MFLOP a thread costs more than it saves.
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const int64_t byWork = static_cast<int64_t>(flops / 4e6) + 1;
  const int64_t maxThreads = std::min<int64_t>(threads(), byWork);
  if (maxThreads <= 1) {
    gemm_block<NR>(A, B, 0, k, c, ldc, 0, m, 0, n, ep);
    return;
  }
  // A long reduction into a small C (a filter gradient: K = batch·H·W): split K, so that each
  // thread packs only its share of both operands, then add the partial products.
  if (k >= 8 * std::max(m, n)) {
    const int64_t t = std::min<int64_t>(maxThreads, (k + KC - 1) / KC);
    const int64_t per = ((k + t - 1) / t + KC - 1) / KC * KC;
    // Task 0 writes C; task w > 0 its own partial product, w - 1 in `partial`.
    Scratch<float> partial = alloc_scratch<float>((t - 1) * m * n, "partial products");
    auto share = [&](int64_t w) {
      gemm_block<NR>(A, B, std::min(k, w * per), std::min(k, (w + 1) * per), w == 0 ? c : partial.get() + (w - 1) * m * n,
                 w == 0 ? ldc : n, 0, m, 0, n, Epilogue{});
    };
    run_tasks(t, share);
    for (int64_t w = 1; w < t; ++w) {
      const float* part = partial.get() + (w - 1) * m * n;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) c[i * ldc + j] += part[i * n + j];
    }
    apply_epilogue(c, ldc, m, 0, n, ep);
    return;
  }
  const bool byRows = m >= n;
  const int64_t unit = byRows ? MR : NR;
  const int64_t units = ((byRows ? m : n) + unit - 1) / unit;
  const int64_t t = std::min<int64_t>(maxThreads, units);
  if (t <= 1) {
    gemm_block<NR>(A, B, 0, k, c, ldc, 0, m, 0, n, ep);
    return;
  }
  const int64_t per = (units + t - 1) / t;
  auto run = [&](int64_t w) {
    const int64_t total = byRows ? m : n;
    const int64_t lo = std::min(total, w * per * unit);
    const int64_t hi = std::min(total, (w + 1) * per * unit);
    if (byRows) {
      gemm_block<NR>(A, B, 0, k, c, ldc, lo, hi, 0, n, ep);
    } else {
      gemm_block<NR>(A, B, 0, k, c, ldc, 0, m, lo, hi, ep);
    }
  };
  run_tasks(t, run);
}

// The tile width of the current ISA's micro-kernel.
template <typename APacker, typename BPacker>
void gemm_dispatch(const APacker& A, const BPacker& B, int64_t m, int64_t n, int64_t k, float* c, int64_t ldc,
                   const Epilogue& ep) {
  if (g_isa.load(std::memory_order_relaxed) == kIsaAvx512) {
    gemm_parallel<32>(A, B, m, n, k, c, ldc, ep);
  } else {
    gemm_parallel<16>(A, B, m, n, k, c, ldc, ep);
  }
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& ep) {
  const DenseA A{a, transA ? 1 : lda, transA ? lda : 1};
  gemm_dispatch(A, DenseB{b, transB ? 1 : ldb, transB ? ldb : 1}, m, n, k, c, ldc, ep);
}

void conv2d(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
  const ConvA A{&s, x};
  const int64_t m = s.batch * s.outH * s.outW;
  const int64_t k = s.kh * s.kw * s.inC;
  gemm_dispatch(A, DenseB{filter, s.outC, 1}, m, s.outC, k, out, s.outC, ep);
}

namespace {

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

void conv2d_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw) {
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

Isa isa() { return static_cast<Isa>(g_isa.load()); }
bool isa_supported(Isa i) { return supports(i); }
bool set_isa(Isa i) {
  if (!supports(i)) return false;
  g_isa.store(i);
  return true;
}

}  // namespace probunet
