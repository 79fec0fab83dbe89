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

// fn(std::integral_constant<int, NR>) with the tile width of the current ISA's micro-kernel.
template <typename Fn>
void with_tile_width(Fn fn) {
  if (g_isa.load(std::memory_order_relaxed) == kIsaAvx512) {
    fn(std::integral_constant<int, 32>{});
  } else {
    fn(std::integral_constant<int, 16>{});
  }
}

template <typename APacker, typename BPacker>
void gemm_dispatch(const APacker& A, const BPacker& B, int64_t m, int64_t n, int64_t k, float* c, int64_t ldc,
                   const Epilogue& ep) {
  with_tile_width([&](auto nr) { gemm_parallel<decltype(nr)::value>(A, B, m, n, k, c, ldc, ep); });
}


// ---------------------------------------------------------------- Winograd F(2×2, 3×3)
// A stride-1, undilated 3×3 convolution as Lavin & Gray's minimal filtering: each 2×2 block of
// output positions (a tile) comes from its 4×4 input patch d and the filter g as
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, per pair of channels. Summed over input channels, the 16
// elementwise products become 16 independent matrix products M_ξ[tile, co] = V_ξ[tile, ci] ·
// U_ξ[ci, co]: 16 multiplications per tile where the direct convolution needs 36 (2.25× fewer).
// Tiles go in blocks small enough that a block's V and M stay in the core's L2: transform a
// block's patches, run the 16 products (V read in place, U packed once per call), transform back
// and apply the epilogue.

// U_ξ = G g Gᵀ for every (ci, co): u[ξ][ci·outC + co], g[ky][kx] = f[(ky·3 + kx)·inC·outC + ci·outC + co].
void winograd_filter(const float* f, int64_t pairs, float* u) {
  parallel_for(pairs, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t e = lo; e < hi; ++e) {
      float g[3][3], t[4][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j] = f[(i * 3 + j) * pairs + e];
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[0][j];
        t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
        t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
        t[3][j] = g[2][j];
      }
      for (int i = 0; i < 4; ++i) {
        u[(i * 4 + 0) * pairs + e] = t[i][0];
        u[(i * 4 + 1) * pairs + e] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[(i * 4 + 2) * pairs + e] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[(i * 4 + 3) * pairs + e] = t[i][2];
      }
    }
  });
}

// Vectors of W floats (GCC/Clang vector extensions: zmm, ymm or xmm registers in functions built
// for AVX-512, AVX2 or the baseline), loaded and stored unaligned.
typedef float F16 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));
template <typename V>
inline __attribute__((always_inline)) V vload(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V>
inline __attribute__((always_inline)) void vstore(float* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// V = Bᵀ d B for channels [c, c + lanes): d[i·4 + j] points at the patch's row i, column j;
// v[ξ·vs + c] receives element ξ = i·4 + j.
template <typename V>
inline __attribute__((always_inline)) void winograd_input_step(const float* const* d, int64_t c, float* v, int64_t vs) {
  V t[4][4];
  for (int j = 0; j < 4; ++j) {
    const V d0 = vload<V>(d[j] + c), d1 = vload<V>(d[4 + j] + c), d2 = vload<V>(d[8 + j] + c), d3 = vload<V>(d[12 + j] + c);
    t[0][j] = d0 - d2;
    t[1][j] = d1 + d2;
    t[2][j] = d2 - d1;
    t[3][j] = d1 - d3;
  }
  for (int i = 0; i < 4; ++i) {
    vstore<V>(v + (i * 4 + 0) * vs + c, t[i][0] - t[i][2]);
    vstore<V>(v + (i * 4 + 1) * vs + c, t[i][1] + t[i][2]);
    vstore<V>(v + (i * 4 + 2) * vs + c, t[i][2] - t[i][1]);
    vstore<V>(v + (i * 4 + 3) * vs + c, t[i][1] - t[i][3]);
  }
}

// Y = Aᵀ m A for channels [c, c + lanes): m[ξ·ms + c] → y[i·2 + j][c].
template <typename V>
inline __attribute__((always_inline)) void winograd_output_step(const float* m, int64_t ms, int64_t c, float* const* y) {
  V s[2][4];
  for (int j = 0; j < 4; ++j) {
    const V m0 = vload<V>(m + j * ms + c), m1 = vload<V>(m + (4 + j) * ms + c), m2 = vload<V>(m + (8 + j) * ms + c),
            m3 = vload<V>(m + (12 + j) * ms + c);
    s[0][j] = m0 + m1 + m2;
    s[1][j] = m1 - m2 - m3;
  }
  for (int i = 0; i < 2; ++i) {
    vstore<V>(y[i * 2 + 0] + c, s[i][0] + s[i][1] + s[i][2]);
    vstore<V>(y[i * 2 + 1] + c, s[i][1] - s[i][2] - s[i][3]);
  }
}

// Channels [0, n) in vectors of V, the rest one at a time.
template <typename V>
inline __attribute__((always_inline)) void winograd_input_body(const float* const* d, int64_t n, float* v, int64_t vs) {
  constexpr int64_t lanes = sizeof(V) / sizeof(float);
  int64_t c = 0;
  for (; c + lanes <= n; c += lanes) winograd_input_step<V>(d, c, v, vs);
  for (; c < n; ++c) winograd_input_step<float>(d, c, v, vs);
}
template <typename V>
inline __attribute__((always_inline)) void winograd_output_body(const float* m, int64_t ms, int64_t n, float* const* y) {
  constexpr int64_t lanes = sizeof(V) / sizeof(float);
  int64_t c = 0;
  for (; c + lanes <= n; c += lanes) winograd_output_step<V>(m, ms, c, y);
  for (; c < n; ++c) winograd_output_step<float>(m, ms, c, y);
}

// The filter gradient's transform of a 2×2 tile of dy, W = A e Aᵀ, for channels [c, c + lanes):
// e[i·2 + j] points at dy's row i, column j; w[ξ·ws + c] receives element ξ.
template <typename V>
inline __attribute__((always_inline)) void winograd_dy_step(const float* const* e, int64_t c, float* w, int64_t ws) {
  V r[4][2];
  for (int j = 0; j < 2; ++j) {
    const V e0 = vload<V>(e[j] + c), e1 = vload<V>(e[2 + j] + c);
    r[0][j] = e0;
    r[1][j] = e0 + e1;
    r[2][j] = e0 - e1;
    r[3][j] = -e1;
  }
  for (int i = 0; i < 4; ++i) {
    vstore<V>(w + (i * 4 + 0) * ws + c, r[i][0]);
    vstore<V>(w + (i * 4 + 1) * ws + c, r[i][0] + r[i][1]);
    vstore<V>(w + (i * 4 + 2) * ws + c, r[i][0] - r[i][1]);
    vstore<V>(w + (i * 4 + 3) * ws + c, -r[i][1]);
  }
}
template <typename V>
inline __attribute__((always_inline)) void winograd_dy_body(const float* const* e, int64_t n, float* w, int64_t ws) {
  constexpr int64_t lanes = sizeof(V) / sizeof(float);
  int64_t c = 0;
  for (; c + lanes <= n; c += lanes) winograd_dy_step<V>(e, c, w, ws);
  for (; c < n; ++c) winograd_dy_step<float>(e, c, w, ws);
}

void winograd_dy_portable(const float* const* e, int64_t n, float* w, int64_t ws) { winograd_dy_body<F4>(e, n, w, ws); }
void winograd_input_portable(const float* const* d, int64_t n, float* v, int64_t vs) { winograd_input_body<F4>(d, n, v, vs); }
void winograd_output_portable(const float* m, int64_t ms, int64_t n, float* const* y) { winograd_output_body<F4>(m, ms, n, y); }
#ifdef PROBUNET_X86
__attribute__((target("avx512f"))) void winograd_input_avx512(const float* const* d, int64_t n, float* v, int64_t vs) {
  winograd_input_body<F16>(d, n, v, vs);
}
__attribute__((target("avx512f"))) void winograd_output_avx512(const float* m, int64_t ms, int64_t n, float* const* y) {
  winograd_output_body<F16>(m, ms, n, y);
}
__attribute__((target("avx512f"))) void winograd_dy_avx512(const float* const* e, int64_t n, float* w, int64_t ws) {
  winograd_dy_body<F16>(e, n, w, ws);
}
__attribute__((target("avx2,fma"))) void winograd_dy_avx2(const float* const* e, int64_t n, float* w, int64_t ws) {
  winograd_dy_body<F8>(e, n, w, ws);
}
__attribute__((target("avx2,fma"))) void winograd_input_avx2(const float* const* d, int64_t n, float* v, int64_t vs) {
  winograd_input_body<F8>(d, n, v, vs);
}
__attribute__((target("avx2,fma"))) void winograd_output_avx2(const float* m, int64_t ms, int64_t n, float* const* y) {
  winograd_output_body<F8>(m, ms, n, y);
}
#endif

// The transforms built for the current ISA's vector width.
struct WinogradTransforms {
  void (*input)(const float* const*, int64_t, float*, int64_t);
  void (*output)(const float*, int64_t, int64_t, float* const*);
  void (*dy)(const float* const*, int64_t, float*, int64_t);
};
WinogradTransforms winograd_transforms() {
#ifdef PROBUNET_X86
  switch (g_isa.load(std::memory_order_relaxed)) {
    case kIsaAvx512: return {winograd_input_avx512, winograd_output_avx512, winograd_dy_avx512};
    case kIsaAvx2: return {winograd_input_avx2, winograd_output_avx2, winograd_dy_avx2};
    default: break;
  }
#endif
  return {winograd_input_portable, winograd_output_portable, winograd_dy_portable};
}

// Pointers to the 4×4 input patch of the tile whose top-left output is (oy, ox) in image b: the
// rows and columns outside the image point at `zero`.
inline void winograd_patch(const ConvShape& s, const float* x, int64_t b, int64_t oy, int64_t ox, const float* zero,
                           const float** d) {
  const int64_t y0 = oy - s.padTop, x0 = ox - s.padLeft;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int64_t yy = y0 + i, xx = x0 + j;
      d[i * 4 + j] = (yy < 0 || yy >= s.inH || xx < 0 || xx >= s.inW) ? zero : x + ((b * s.inH + yy) * s.inW + xx) * s.inC;
    }
}

// The distance between the 16 matrices of a block (V_ξ, M_ξ, W_ξ): their size rounded up to an odd
// number of cache lines, so that a transform's 16 streams (one tile's row in each) fall in 16
// different L1 sets. At a multiple of 4 KB they all fell in one: with 32 channels, 96 tiles make
// 12 KB, and the 16 streams evicted each other from a 12-way set. Measured on the 128²×32→32
// layer (2 threads, batch 8, three pairs of 5-second runs alternating the two builds, effective
// GFLOP/s): forward 292–362 → 331–483, filter gradient 253–305 → 292–415, better in every pair.
inline int64_t winograd_stride(int64_t floats) {
  const int64_t lines = (floats + 15) / 16;
  return (lines | 1) * 16;
}

// fn(k, b, ty, tx) for tiles t0 + k, k < n, of a [batch, th, tw] tile grid, in order.
template <typename Fn>
inline void for_tiles(int64_t t0, int64_t n, int64_t th, int64_t tw, Fn fn) {
  int64_t tx = t0 % tw, ty = (t0 / tw) % th, b = t0 / (tw * th);
  for (int64_t k = 0; k < n; ++k) {
    fn(k, b, ty, tx);
    if (++tx == tw) {
      tx = 0;
      if (++ty == th) {
        ty = 0;
        ++b;
      }
    }
  }
}

template <int NR>
void conv2d_winograd(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
  const int64_t ci = s.inC, co = s.outC;
  const int64_t th = (s.outH + 1) / 2, tw = (s.outW + 1) / 2, tiles = s.batch * th * tw;
  const int64_t coPad = (co + NR - 1) / NR * NR;
  // U, transformed then packed as B panels (ci × NR each) per ξ.
  Scratch<float> u = alloc_scratch<float>(16 * ci * co, "the transformed filter");
  winograd_filter(filter, ci * co, u.get());
  Scratch<float> up = alloc_scratch<float>(16 * ci * coPad, "the packed transformed filter");
  for (int xi = 0; xi < 16; ++xi) DenseB{u.get() + xi * ci * co, co, 1}.template pack<NR>(0, ci, 0, co, up.get() + xi * ci * coPad);
  // Tiles per block: V and M of a block within ~384 KB.
  const int64_t tb = std::max<int64_t>(2 * MR, (96 * 1024 / (16 * (ci + co))) / MR * MR);
  const int64_t blocks = (tiles + tb - 1) / tb;
  const Ukernel kernel = ukernel<NR>();
  const WinogradTransforms tr = winograd_transforms();
  parallel_for(blocks, 1, [&](int64_t lo, int64_t hi) {
    const int64_t vs = winograd_stride(tb * ci), ms = winograd_stride(tb * co);
    Scratch<float> v = alloc_scratch<float>(16 * vs, "Winograd input tiles");
    Scratch<float> m = alloc_scratch<float>(16 * ms, "Winograd products");
    Scratch<float> zero = alloc_scratch<float>(std::max(ci, co), "Winograd zeros");
    Scratch<float> sink = alloc_scratch<float>(co, "Winograd clipped outputs");
    std::fill(zero.get(), zero.get() + std::max(ci, co), 0.f);
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t t0 = blk * tb, n = std::min(tb, tiles - t0);
      for_tiles(t0, n, th, tw, [&](int64_t t, int64_t b, int64_t ty, int64_t tx) {
        const float* d[16];
        winograd_patch(s, x, b, 2 * ty, 2 * tx, zero.get(), d);
        tr.input(d, ci, v.get() + t * ci, vs);
      });
      for (int xi = 0; xi < 16; ++xi) {
        const float* vx = v.get() + xi * vs;
        float* mx = m.get() + xi * ms;
        for (int64_t jr = 0; jr < co; jr += NR) {
          const float* bp = up.get() + xi * ci * coPad + jr * ci;
          for (int64_t ir = 0; ir < n; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, n - ir);
            Segment seg;
            seg.len = ci;
            for (int r = 0; r < MR; ++r) seg.p[r] = vx + (ir + std::min<int64_t>(r, rows - 1)) * ci;
            run_tile<NR>(kernel, &seg, 1, 1, bp, mx + ir * co + jr, co, false, rows, std::min<int64_t>(NR, co - jr));
          }
        }
      }
      for_tiles(t0, n, th, tw, [&](int64_t t, int64_t b, int64_t ty, int64_t tx) {
        float* y[4];
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            const int64_t oy = 2 * ty + i, ox = 2 * tx + j;
            y[i * 2 + j] = (oy < s.outH && ox < s.outW) ? out + ((b * s.outH + oy) * s.outW + ox) * co : sink.get();
          }
        tr.output(m.get() + t * co, ms, co, y);
        for (int k = 0; k < 4; ++k)
          if (y[k] != sink.get()) apply_epilogue(y[k], co, 1, 0, co, ep);
      });
    }
  });
}

// The filter gradient as Winograd F(3×3, 2×2), the same identity read the other way: over a 2×2
// tile of dy (e) and its 4×4 input patch d, dW[ky, kx] += Gᵀ[(A e Aᵀ) ⊙ (Bᵀ d B)]G. Summed over
// tiles, the 16 elementwise products become 16 products M_ξ[ci, co] = Σ_t V_ξ[t, ci] · W_ξ[t, co]
// with the tiles as the reduction; each thread sums its own range of tiles, block by block (V read
// in place, transposed; W written straight into packed panels), then the threads' sums are added
// and transformed back once.
template <int NR>
void conv2d_backprop_filter_winograd(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int64_t ci = s.inC, co = s.outC;
  const int64_t th = (s.outH + 1) / 2, tw = (s.outW + 1) / 2, tiles = s.batch * th * tw;
  const int64_t coPad = (co + NR - 1) / NR * NR;
  if (tiles == 0) {
    std::fill(dw, dw + 9 * ci * co, 0.f);
    return;
  }
  const int64_t tb = std::max<int64_t>(48, 128 * 1024 / (16 * (ci + coPad)));
  const int64_t blocks = (tiles + tb - 1) / tb;
  const double flops = 2.0 * 16 * static_cast<double>(tiles) * ci * co;
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>({static_cast<int64_t>(threads()), blocks, static_cast<int64_t>(flops / 4e6) + 1}));
  const int64_t per = (blocks + t - 1) / t;
  Scratch<float> sums = alloc_scratch<float>(t * 16 * ci * co, "Winograd filter-gradient sums");
  const Ukernel kernel = ukernel<NR>();
  const WinogradTransforms tr = winograd_transforms();
  auto share = [&](int64_t w) {
    const int64_t blk0 = std::min(blocks, w * per), blk1 = std::min(blocks, (w + 1) * per);
    float* m = sums.get() + w * 16 * ci * co;
    if (blk0 == blk1) {
      std::fill(m, m + 16 * ci * co, 0.f);
      return;
    }
    const int64_t vs = winograd_stride(tb * ci), ws = winograd_stride(tb * coPad);
    Scratch<float> v = alloc_scratch<float>(16 * vs, "Winograd input tiles");
    Scratch<float> wp = alloc_scratch<float>(16 * ws, "Winograd dy tiles");
    Scratch<float> zero = alloc_scratch<float>(std::max(ci, co), "Winograd zeros");
    std::fill(zero.get(), zero.get() + std::max(ci, co), 0.f);
    // Panel columns past co are never written: zero once.
    if (coPad != co) std::fill(wp.get(), wp.get() + 16 * ws, 0.f);
    for (int64_t blk = blk0; blk < blk1; ++blk) {
      const int64_t t0 = blk * tb, n = std::min(tb, tiles - t0);
      for_tiles(t0, n, th, tw, [&](int64_t k, int64_t b, int64_t ty, int64_t tx) {
        const float* d[16];
        winograd_patch(s, x, b, 2 * ty, 2 * tx, zero.get(), d);
        tr.input(d, ci, v.get() + k * ci, vs);
        const float* e[4];
        for (int i = 0; i < 2; ++i)
          for (int j = 0; j < 2; ++j) {
            const int64_t oy = 2 * ty + i, ox = 2 * tx + j;
            e[i * 2 + j] = (oy < s.outH && ox < s.outW) ? dy + ((b * s.outH + oy) * s.outW + ox) * co : zero.get();
          }
        // W_ξ as packed panels: panel jr holds columns [jr, jr + NR) of every tile, NR floats a tile.
        for (int64_t jr = 0; jr < co; jr += NR) {
          const float* ej[4] = {e[0] + jr, e[1] + jr, e[2] + jr, e[3] + jr};
          tr.dy(ej, std::min<int64_t>(NR, co - jr), wp.get() + jr * tb + k * NR, ws);
        }
      });
      for (int xi = 0; xi < 16; ++xi) {
        const float* vx = v.get() + xi * vs;
        const float* wx = wp.get() + xi * ws;
        float* mx = m + xi * ci * co;
        for (int64_t jr = 0; jr < co; jr += NR) {
          for (int64_t ir = 0; ir < ci; ir += MR) {
            const int64_t rows = std::min<int64_t>(MR, ci - ir);
            Segment seg;
            seg.len = n;
            for (int r = 0; r < MR; ++r) seg.p[r] = vx + ir + std::min<int64_t>(r, rows - 1);
            run_tile<NR>(kernel, &seg, 1, ci, wx + jr * tb, mx + ir * co + jr, co, blk > blk0, rows, std::min<int64_t>(NR, co - jr));
          }
        }
      }
    }
  };
  run_tasks(t, share);
  // dW[ky, kx] = Σ_ξ Gᵀ[ky, a] Gᵀ[kx, b] M_(a·4+b), with the threads' sums added first.
  static constexpr float GT[3][4] = {{1.f, 0.5f, 0.5f, 0.f}, {0.f, 0.5f, -0.5f, 0.f}, {0.f, 0.5f, 0.5f, 1.f}};
  const int64_t pairs = ci * co;
  parallel_for(pairs, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t e = lo; e < hi; ++e) {
      float mm[16];
      for (int xi = 0; xi < 16; ++xi) {
        float acc = 0.f;
        for (int64_t w = 0; w < t; ++w) acc += sums[(w * 16 + xi) * pairs + e];
        mm[xi] = acc;
      }
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          float acc = 0.f;
          for (int a = 0; a < 4; ++a)
            for (int bb = 0; bb < 4; ++bb) acc += GT[ky][a] * GT[kx][bb] * mm[a * 4 + bb];
          dw[(ky * 3 + kx) * pairs + e] = acc;
        }
    }
  });
}

// On unless PROBUNET_NATIVE_WINOGRAD=0; set_winograd switches it.
std::atomic<bool> g_winograd{[] {
  const char* v = std::getenv("PROBUNET_NATIVE_WINOGRAD");
  return !(v && std::string(v) == "0");
}()};

// Winograd where it applies and pays: 3×3, stride 1, undilated, with enough channels that the
// products dominate the transforms.
bool winograd_applies(const ConvShape& s) {
  if (!g_winograd.load(std::memory_order_relaxed)) return false;
  return s.kh == 3 && s.kw == 3 && s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1 && s.inC >= 8 &&
         s.outC >= 8;
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& ep) {
  const DenseA A{a, transA ? 1 : lda, transA ? lda : 1};
  gemm_dispatch(A, DenseB{b, transB ? 1 : ldb, transB ? ldb : 1}, m, n, k, c, ldc, ep);
}

void conv2d(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
  if (winograd_applies(s)) {
    with_tile_width([&](auto nr) { conv2d_winograd<decltype(nr)::value>(s, x, filter, out, ep); });
    return;
  }
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
  if (winograd_applies(s)) {
    with_tile_width([&](auto nr) { conv2d_backprop_filter_winograd<decltype(nr)::value>(s, x, dy, dw); });
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

bool winograd() { return g_winograd.load(); }
void set_winograd(bool on) { g_winograd.store(on); }

Isa isa() { return static_cast<Isa>(g_isa.load()); }
bool isa_supported(Isa i) { return supports(i); }
bool set_isa(Isa i) {
  if (!supports(i)) return false;
  g_isa.store(i);
  return true;
}

}  // namespace probunet
