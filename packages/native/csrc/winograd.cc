// Winograd F(2×2, 3×3) convolutions and F(3×3, 2×2) filter gradients.
// A stride-1, undilated 3×3 convolution as Lavin & Gray's minimal filtering: each 2×2 block of
// output positions (a tile) comes from its 4×4 input patch d and the filter g as
// Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, per pair of channels. Summed over input channels, the 16
// elementwise products become 16 independent matrix products M_ξ[tile, co] = V_ξ[tile, ci] ·
// U_ξ[ci, co]: 16 multiplications per tile where the direct convolution needs 36 (2.25× fewer).
// Tiles go in blocks small enough that a block's V and M stay in the core's L2: transform a
// block's patches, run the 16 products (V read in place, U packed once per call), transform back
// and apply the epilogue.
#include "winograd.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "gemm-driver.h"

namespace probunet {
using namespace detail;

namespace {

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
void winograd_conv2d(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
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
void winograd_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw) {
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

}  // namespace

namespace detail {

// Winograd where it applies and pays: 3×3, stride 1, undilated, with enough channels that the
// products dominate the transforms.
bool winograd_applies(const ConvShape& s) {
  if (!g_winograd.load(std::memory_order_relaxed)) return false;
  return s.kh == 3 && s.kw == 3 && s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1 && s.inC >= 8 &&
         s.outC >= 8;
}

void conv2d_winograd(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep) {
  with_tile_width([&](auto nr) { winograd_conv2d<decltype(nr)::value>(s, x, filter, out, ep); });
}

void conv2d_backprop_filter_winograd(const ConvShape& s, const float* x, const float* dy, float* dw) {
  with_tile_width([&](auto nr) { winograd_backprop_filter<decltype(nr)::value>(s, x, dy, dw); });
}

}  // namespace detail

bool winograd() { return g_winograd.load(); }
void set_winograd(bool on) { g_winograd.store(on); }

}  // namespace probunet
