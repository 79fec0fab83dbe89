// The blocked GEMM's driver, shared by the three files that multiply matrices: gemm.cc (the
// micro-kernels and sgemm), conv.cc (convolutions as implicit-im2col products) and winograd.cc
// (Winograd's 16 products per block). B is packed in KC×NR panels, A read in place or packed in
// MR×KC panels, and the micro-kernel of the current ISA (gemm.cc) does the arithmetic. Everything
// that depends on the tile's width is a template over NR. Internal: not part of the addon's API.
#pragma once

#if (defined(__x86_64__) || defined(__i386__)) && !defined(PROBUNET_NO_X86)
#define PROBUNET_X86 1
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "parallel.h"
#include "scratch.h"

namespace probunet {
namespace detail {

constexpr int MR = 6;
constexpr int64_t KC = 384;  // the longest K block; a product's K is cut into equal blocks up to this
constexpr int64_t MC = 144;   // multiple of MR
constexpr int64_t NC = 2048;  // multiple of NR
// B packed whole, when A is read in place, up to this many floats (384 KB: within a core's L2).
constexpr int64_t kWholeBFloats = 96 * 1024;

// A 6×NR tile of C (+)= Σ over segments s, over q < len: A[r] · B[q], where row r's value is
// segs[s].p[r][q·stride]. Packed A panels are one segment with p[r] = panel + r and stride MR;
// unpacked A (a dense matrix's rows, or a convolution's taps) is one segment per contiguous run,
// stride 1. B is packed: NR floats per step.
struct Segment {
  const float* p[MR];
  int64_t len;
};

// The ISA whose micro-kernel runs (an Isa; gemm.cc sets it at load and in set_isa).
extern std::atomic<int> g_isa;

using Ukernel = void (*)(const Segment*, int64_t, int64_t, const float*, float*, int64_t, bool);

// The micro-kernel for a tile NR wide under the current ISA: AVX-512 is 32 wide, AVX2 16, the
// portable kernel takes either width (it is what runs under `portable`).
// Defined in gemm.cc for NR = 16 and 32.
template <int NR>
Ukernel ukernel();

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
inline const float* zeros() {
  static const std::vector<float> z(KC, 0.f);
  return z.data();
}

// One MR-row packed panel (kc × MR, interleaved) from segments read with `stride`; rows past
// `rows` are zero.
inline void pack_segments(const Segment* segs, int64_t n, int64_t rows, int64_t stride, float* d) {
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

inline void apply_epilogue(float* c, int64_t ldc, int64_t rows, int64_t j0, int64_t cols, const Epilogue& ep) {
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

}  // namespace detail
}  // namespace probunet
