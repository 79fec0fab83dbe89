// A BLIS-style blocked SGEMM's micro-kernels: 6×32 with AVX-512 where the processor has it, 6×16
// with AVX2 + FMA, portable C++ otherwise (chosen at load time; set_isa switches), and sgemm over
// dense matrices. The blocking, packing and threading that every product shares (this file's,
// conv.cc's and winograd.cc's) is gemm-driver.h. Work is split into tasks for the thread pool
// (parallel.h) by rows (or by columns when there are more columns than rows).
#include "gemm.h"

#include "gemm-driver.h"

#ifdef PROBUNET_X86
#include <immintrin.h>
#endif

#include <cstdlib>
#include <string>

namespace probunet {
using namespace detail;

namespace {

// ---------------------------------------------------------------- micro-kernels
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

}  // namespace

namespace detail {

std::atomic<int> g_isa{initial_isa()};

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

template Ukernel ukernel<16>();
template Ukernel ukernel<32>();

}  // namespace detail

namespace {

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

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& ep) {
  const DenseA A{a, transA ? 1 : lda, transA ? lda : 1};
  gemm_dispatch(A, DenseB{b, transB ? 1 : ldb, transB ? ldb : 1}, m, n, k, c, ldc, ep);
}

Isa isa() { return static_cast<Isa>(g_isa.load()); }
bool isa_supported(Isa i) { return supports(i); }
bool set_isa(Isa i) {
  if (!supports(i)) return false;
  g_isa.store(i);
  return true;
}

}  // namespace probunet
