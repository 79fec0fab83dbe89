#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ops.h"
#include "parallel.h"
#include "scratch.h"

namespace probunet {
namespace {

// Below this many elements a call runs on the calling thread (handing work to the pool costs more
// than it saves).
constexpr int64_t kMinPerThread = 1 << 15;

// out[i] = f(a[i % na], b[i % nb]) for i in [lo, hi), in runs where neither index wraps round, so
// that each run is a plain loop the compiler vectorises.
template <typename F>
void binary_range(F f, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t lo, int64_t hi) {
  if (na == 1) {
    const float s = a[0];
    if (nb == 1) {
      const float v = f(s, b[0]);
      for (int64_t i = lo; i < hi; ++i) out[i] = v;
      return;
    }
    int64_t j = lo % nb;
    for (int64_t i = lo; i < hi;) {
      const int64_t len = std::min(nb - j, hi - i);
      const float* bj = b + j;
      float* o = out + i;
      for (int64_t t = 0; t < len; ++t) o[t] = f(s, bj[t]);
      i += len;
      j = 0;
    }
    return;
  }
  if (nb == 1) {
    const float s = b[0];
    int64_t j = lo % na;
    for (int64_t i = lo; i < hi;) {
      const int64_t len = std::min(na - j, hi - i);
      const float* aj = a + j;
      float* o = out + i;
      for (int64_t t = 0; t < len; ++t) o[t] = f(aj[t], s);
      i += len;
      j = 0;
    }
    return;
  }
  int64_t ja = lo % na, jb = lo % nb;
  for (int64_t i = lo; i < hi;) {
    const int64_t len = std::min({na - ja, nb - jb, hi - i});
    const float* ap = a + ja;
    const float* bp = b + jb;
    float* o = out + i;
    for (int64_t t = 0; t < len; ++t) o[t] = f(ap[t], bp[t]);
    i += len;
    ja += len;
    jb += len;
    if (ja == na) ja = 0;
    if (jb == nb) jb = 0;
  }
}

template <typename F>
void binary_with(F f, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  parallel_for(n, kMinPerThread, [&](int64_t lo, int64_t hi) { binary_range(f, a, na, b, nb, out, lo, hi); });
}

template <typename F>
void unary_with(F f, const float* x, float* out, int64_t n) {
  parallel_for(n, kMinPerThread, [&](int64_t lo, int64_t hi) {
    // A local copy: captured values (Step's alpha) read through a reference could alias out, which
    // would stop the compiler from vectorising the loop.
    const F g = f;
    for (int64_t i = lo; i < hi; ++i) out[i] = g(x[i]);
  });
}

template <typename F>
void strided_with(F f, const float* a, const int64_t* as, const float* b, const int64_t* bs, float* out,
                  const int64_t* d) {
  const int64_t rows = d[0] * d[1] * d[2];
  const int64_t inner = d[3];
  parallel_for(rows, std::max<int64_t>(1, kMinPerThread / std::max<int64_t>(1, inner)), [&](int64_t lo, int64_t hi) {
    // The first row's indices decoded, later rows stepped (three divisions a row cost more than
    // the row itself when it is short: a [N, H, W, 2] × [N, H, W, 1] product).
    int64_t i2 = lo % d[2], i1 = (lo / d[2]) % d[1], i0 = lo / (d[2] * d[1]);
    for (int64_t r = lo; r < hi; ++r) {
      const float* ar = a + i0 * as[0] + i1 * as[1] + i2 * as[2];
      const float* br = b + i0 * bs[0] + i1 * bs[1] + i2 * bs[2];
      float* o = out + r * inner;
      if (++i2 == d[2]) {
        i2 = 0;
        if (++i1 == d[1]) {
          i1 = 0;
          ++i0;
        }
      }
      if (as[3] == 1 && bs[3] == 1) {
        for (int64_t t = 0; t < inner; ++t) o[t] = f(ar[t], br[t]);
      } else if (as[3] == 1) {
        const float s = br[0];
        for (int64_t t = 0; t < inner; ++t) o[t] = f(ar[t], s);
      } else if (bs[3] == 1) {
        const float s = ar[0];
        for (int64_t t = 0; t < inner; ++t) o[t] = f(s, br[t]);
      } else {
        for (int64_t t = 0; t < inner; ++t) o[t] = f(ar[t * as[3]], br[t * bs[3]]);
      }
    }
  });
}

template <typename Run>
void with_binary_op(int op, Run run) {
  switch (op) {
    case kBinaryAdd: return run([](float x, float y) { return x + y; });
    case kBinarySub: return run([](float x, float y) { return x - y; });
    case kBinaryMul: return run([](float x, float y) { return x * y; });
    case kBinaryDiv: return run([](float x, float y) { return x / y; });
    // NaN propagates, as in TensorFlow.js (Math.max / Math.min).
    case kBinaryMaximum: return run([](float x, float y) { return (x != x || y != y) ? x + y : (x > y ? x : y); });
    case kBinaryMinimum: return run([](float x, float y) { return (x != x || y != y) ? x + y : (x < y ? x : y); });
    case kBinarySquaredDifference: return run([](float x, float y) { const float d = x - y; return d * d; });
    default: return;
  }
}

}  // namespace

void binary_strided(int op, const float* a, const int64_t* aStride, const float* b, const int64_t* bStride, float* out,
                    const int64_t* dims) {
  if (dims[0] * dims[1] * dims[2] * dims[3] == 0) return;
  with_binary_op(op, [&](auto f) { strided_with(f, a, aStride, b, bStride, out, dims); });
}

void sum_axes(const float* x, int64_t outer, int64_t rows, int64_t cols, float* out) {
  if (outer * cols == 0) return;
  if (rows == 0) {
    std::fill(out, out + outer * cols, 0.f);
    return;
  }
  if (cols == 1) {
    // Trailing axes: one row sum per output, 256-term float blocks carried in double.
    parallel_for(outer, std::max<int64_t>(1, kMinPerThread / rows), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        const float* row = x + o * rows;
        double total = 0;
        for (int64_t r0 = 0; r0 < rows; r0 += 256) {
          const int64_t r1 = std::min(rows, r0 + 256);
          float acc = 0.f;
          for (int64_t r = r0; r < r1; ++r) acc += row[r];
          total += acc;
        }
        out[o] = static_cast<float>(total);
      }
    });
    return;
  }
  if (outer == 1) {
    sum_leading(x, rows, cols, out);
    return;
  }
  // A middle run: each outer slice is a leading-axes sum of its own; slices in parallel.
  parallel_for(outer, 1, [&](int64_t lo, int64_t hi) {
    std::vector<double> total(cols);
    std::vector<float> acc(cols);
    for (int64_t o = lo; o < hi; ++o) {
      const float* xo = x + o * rows * cols;
      std::fill(total.begin(), total.end(), 0.0);
      for (int64_t r0 = 0; r0 < rows; r0 += 256) {
        std::fill(acc.begin(), acc.end(), 0.f);
        const int64_t r1 = std::min(rows, r0 + 256);
        for (int64_t r = r0; r < r1; ++r) {
          const float* row = xo + r * cols;
          for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
        }
        for (int64_t c = 0; c < cols; ++c) total[c] += acc[c];
      }
      for (int64_t c = 0; c < cols; ++c) out[o * cols + c] = static_cast<float>(total[c]);
    }
  });
}

void max_axes(const float* x, int64_t outer, int64_t rows, int64_t cols, float* out) {
  if (outer * cols == 0 || rows == 0) return;
  const auto larger = [](float m, float v) { return (v != v || v > m) ? v : m; };  // NaN sticks
  parallel_for(outer, std::max<int64_t>(1, kMinPerThread / (rows * cols)), [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      const float* xo = x + o * rows * cols;
      float* oo = out + o * cols;
      for (int64_t c = 0; c < cols; ++c) oo[c] = xo[c];
      for (int64_t r = 1; r < rows; ++r) {
        const float* row = xo + r * cols;
        for (int64_t c = 0; c < cols; ++c) oo[c] = larger(oo[c], row[c]);
      }
    }
  });
}

void binary(int op, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  if (n == 0) return;
  with_binary_op(op, [&](auto f) { binary_with(f, a, na, b, nb, out, n); });
}

void unary(int op, const float* x, float* out, int64_t n, float alpha) {
  if (n == 0) return;
  switch (op) {
    case kUnaryRelu: return unary_with([](float v) { return v < 0.f ? 0.f : v; }, x, out, n);
    // Branch-free (NaN stays NaN) so that the compiler vectorises it.
    case kUnaryStep:
      return unary_with(
          [alpha](float v) {
            const float r = v > 0.f ? 1.f : alpha;
            return v == v ? r : v;
          },
          x, out, n);
    case kUnarySqrt: return unary_with([](float v) { return std::sqrt(v); }, x, out, n);
    case kUnarySquare: return unary_with([](float v) { return v * v; }, x, out, n);
    case kUnaryExp: return unary_with([](float v) { return std::exp(v); }, x, out, n);
    case kUnaryLog: return unary_with([](float v) { return std::log(v); }, x, out, n);
    case kUnaryNeg: return unary_with([](float v) { return -v; }, x, out, n);
    case kUnaryAbs: return unary_with([](float v) { return std::fabs(v); }, x, out, n);
    case kUnarySigmoid: return unary_with([](float v) { return 1.f / (1.f + std::exp(-v)); }, x, out, n);
    case kUnaryTanh: return unary_with([](float v) { return std::tanh(v); }, x, out, n);
    case kUnaryRsqrt: return unary_with([](float v) { return 1.f / std::sqrt(v); }, x, out, n);
    case kUnaryReciprocal: return unary_with([](float v) { return 1.f / v; }, x, out, n);
    // As TensorFlow.js computes it: thresholds keep exp from overflowing and log1p accurate.
    case kUnarySoftplus:
      return unary_with(
          [](float v) {
            const float threshold = std::log(1.1920929e-7f) + 2.f;  // log(float epsilon) + 2
            if (v > -threshold) return v;
            if (v < threshold) return std::exp(v);
            return std::log1p(std::exp(v));
          },
          x, out, n);
    case kUnaryLog1p: return unary_with([](float v) { return std::log1p(v); }, x, out, n);
    default: return;
  }
}

void add_n(const float* const* xs, int64_t count, float* out, int64_t n) {
  if (n == 0) return;
  parallel_for(n, kMinPerThread, [&](int64_t lo, int64_t hi) {
    // In blocks that stay in cache while every input is added in.
    for (int64_t b0 = lo; b0 < hi; b0 += 4096) {
      const int64_t b1 = std::min(hi, b0 + 4096);
      if (count == 0) {
        std::fill(out + b0, out + b1, 0.f);
        continue;
      }
      const float* x0 = xs[0];
      for (int64_t i = b0; i < b1; ++i) out[i] = x0[i];
      for (int64_t j = 1; j < count; ++j) {
        const float* xj = xs[j];
        for (int64_t i = b0; i < b1; ++i) out[i] += xj[i];
      }
    }
  });
}

void relu_grad_bias(const float* dy, const float* y, float* dx, float* db, int64_t rows, int64_t cols) {
  if (cols == 0) return;
  if (rows == 0) {
    std::fill(db, db + cols, 0.f);
    return;
  }
  band_column_sums(rows, cols, db, [&](int64_t r, float* acc) {
    const float* dyr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dxr = dx + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const float yv = yr[c];
      // Step(y) as a factor (so dy = ±Inf or NaN against y ≤ 0 gives NaN, as dy · 0 does).
      const float s = yv == yv ? (yv > 0.f ? 1.f : 0.f) : yv;
      const float d = dyr[c] * s;
      dxr[c] = d;
      acc[c] += d;
    }
  });
}

namespace {

// Σ of block(i0, i1) over [0, n) cut into blocks of at most 256 (each a float sum), carried in
// double, in contiguous shares over the pool added in order.
template <typename Block>
double blocked_sum(int64_t n, Block block) {
  if (n == 0) return 0.0;
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads(), n / kMinPerThread));
  const int64_t per = (n + t - 1) / t;
  std::vector<double> sums(t, 0.0);
  auto share = [&](int64_t k) {
    const int64_t lo = std::min(n, k * per), hi = std::min(n, (k + 1) * per);
    double total = 0;
    for (int64_t i0 = lo; i0 < hi; i0 += 256) total += block(i0, std::min(hi, i0 + 256));
    sums[k] = total;
  };
  run_tasks(t, share);
  double s = 0;
  for (double x : sums) s += x;
  return s;
}

}  // namespace

double adam_update(const float* w, const float* g, const float* m, const float* v, float* wOut, float* mOut,
                   float* vOut, int64_t n, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                   float epsilon, float stepSize) {
  // Σ u² in 256-element float blocks carried in double (as the Sum kernel it replaces).
  return blocked_sum(n, [&](int64_t i0, int64_t i1) {
    float acc = 0.f;
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = g[i];
      // Each product and sum rounded to float, in the chain's order (no fused multiply-add:
      // the build is ISO C++, which does not contract).
      const float mi = m ? m[i] * beta1 + gi * oneMinusBeta1 : gi * oneMinusBeta1;
      const float vi = v ? v[i] * beta2 + (gi * gi) * oneMinusBeta2 : (gi * gi) * oneMinusBeta2;
      const float u = mi / (std::sqrt(vi) + epsilon) * stepSize;
      mOut[i] = mi;
      vOut[i] = vi;
      wOut[i] = w[i] - u;
      acc += u * u;
    }
    return acc;
  });
}

namespace {

// The random-normal kernel below is compiled twice on x86-64 Linux with GCC, for AVX2 and for the
// baseline, and the loader picks the clone the processor runs (an ifunc): its quantile loop runs 8
// floats at a time where AVX2 is present (twice as fast, measured). `flatten` inlines its helpers
// into each clone. The softmax kernels are not cloned: in GCC 12's AVX2 clone their exp's selects
// were not if-converted (no vectorisation), and the baseline build ran them 2–3× faster.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define PROBUNET_AVX2_CLONES __attribute__((target_clones("avx2", "default"), flatten))
#else
#define PROBUNET_AVX2_CLONES
#endif

// e^d for d ≤ 0 (a softmax's argument after its max is taken off): Cephes' expf polynomial (relative
// error below 2·10⁻⁷), in branch-free arithmetic the compiler vectorises; 0 below −87 (float's
// normal range) and for NaN (the callers carry NaN through their own sums).
inline float exp_nonpositive(float d) {
  const float dc = d > -87.f ? d : -87.f;
  // Round to nearest for dc ≤ 0 by truncation toward zero of dc·log2(e) − 0.5.
  const int32_t ni = static_cast<int32_t>(dc * 1.44269504088896341f - 0.5f);
  const float n = static_cast<float>(ni);
  float r = dc - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * (r * r) + r + 1.f;
  const int32_t bits = (ni + 127) * (1 << 23);
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return d >= -87.f ? y * scale : 0.f;
}

// Reductions over a short row in eight independent lanes (the compiler turns each lane loop into
// vector instructions; one running scalar would be a chain of dependent adds).
constexpr int kLanes = 8;

inline float lane_sum(const float* x, int64_t k) {
  float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t c = 0;
  for (; c + kLanes <= k; c += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += x[c + j];
  }
  float s = 0.f;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; c < k; ++c) s += x[c];
  return s;
}

// max over a row, NaN skipped (a NaN still reaches the likelihood through its t · (x − lse) terms);
// −Inf for none.
inline float lane_max(const float* x, int64_t k) {
  float acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = -INFINITY;
  int64_t c = 0;
  for (; c + kLanes <= k; c += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] = x[c + j] > acc[j] ? x[c + j] : acc[j];
  }
  float m = -INFINITY;
  for (int j = 0; j < kLanes; ++j) m = acc[j] > m ? acc[j] : m;
  for (; c < k; ++c) m = x[c] > m ? x[c] : m;
  return m;
}

// The label log-likelihood of one draw (rows × k logits against rows × k targets), writing each
// row's log-sum-exp; e: scratch for k floats. See softmax_log_likelihood.
double softmax_rows(const float* xg, const float* tg, float* lseg, int64_t rows, int64_t k, float* e) {
  double total = 0;
  for (int64_t p = 0; p < rows; ++p) {
    const float* xr = xg + p * k;
    const float* tr = tg + p * k;
    const float mx = lane_max(xr, k);
    float lr;
    if (std::isfinite(mx)) {
      for (int64_t c = 0; c < k; ++c) e[c] = exp_nonpositive(xr[c] - mx);
      lr = mx + std::log(lane_sum(e, k));
    } else {
      // +Inf in the row, or no number at all (NaN or −Inf only, or no classes): the chain's own
      // arithmetic, so that Inf − Inf gives its NaN.
      float s = 0.f;
      for (int64_t c = 0; c < k; ++c) s += std::exp(xr[c] - mx);
      lr = mx + std::log(s);
    }
    // Every class's term counts, 0 · NaN included: a NaN logit anywhere in the row (which the max
    // skipped and exp_nonpositive zeroed) makes the sum NaN, and then lse too, so that the
    // gradient takes its exact path and gives NaN as the chain does.
    for (int64_t c = 0; c < k; ++c) e[c] = tr[c] * (xr[c] - lr);
    const float a = lane_sum(e, k);
    lseg[p] = a == a ? lr : a;
    total += a;
  }
  return total;
}

// dx = g · (t − exp(x − lse) · Σt) over `rows` rows of one draw; see softmax_log_likelihood_grad.
void softmax_rows_grad(const float* x, const float* t, const float* lse, float g, float* dx, int64_t rows,
                       int64_t k) {
  for (int64_t p = 0; p < rows; ++p) {
    const float* xr = x + p * k;
    const float* tr = t + p * k;
    float* dr = dx + p * k;
    const float lr = lse[p];
    const float m = lane_sum(tr, k);
    if (std::isfinite(lr)) {
      for (int64_t c = 0; c < k; ++c) dr[c] = g * (tr[c] - exp_nonpositive(xr[c] - lr) * m);
    } else {
      for (int64_t c = 0; c < k; ++c) dr[c] = g * (tr[c] - std::exp(xr[c] - lr) * m);
    }
  }
}

}  // namespace

void softmax_log_likelihood(const float* x, const float* t, float* ll, float* lse, int64_t groups, int64_t draws,
                            int64_t rows, int64_t classes) {
  const int64_t n = groups * draws;
  if (n == 0) return;
  const int64_t k = classes;
  parallel_for(n, std::max<int64_t>(1, kMinPerThread / std::max<int64_t>(1, rows * k)), [&](int64_t lo, int64_t hi) {
    std::vector<float> e(static_cast<size_t>(k));
    for (int64_t gs = lo; gs < hi; ++gs) {
      ll[gs] = static_cast<float>(softmax_rows(x + gs * rows * k, t + (gs / draws) * rows * k, lse + gs * rows, rows, k, e.data()));
    }
  });
}

void softmax_log_likelihood_grad(const float* x, const float* t, const float* lse, const float* dll, float* dx,
                                 int64_t groups, int64_t draws, int64_t rows, int64_t classes) {
  const int64_t n = groups * draws;
  const int64_t k = classes;
  if (n == 0 || k == 0) return;
  // Split over (draw, row) pairs; each share is cut where a draw ends.
  parallel_for(n * rows, std::max<int64_t>(1, kMinPerThread / k), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi;) {
      const int64_t gs = i / rows, p = i % rows;
      const int64_t len = std::min(hi - i, rows - p);
      softmax_rows_grad(x + i * k, t + ((gs / draws) * rows + p) * k, lse + i, dll[gs], dx + i * k, len, k);
      i += len;
    }
  });
}

namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  return h ^ (h >> 16);
}

// The standard normal quantile at p in (0, 1), Acklam's rational approximation: the central region
// (|p − ½| ≤ 0.47575) in float, vectorisable; the tails in double.
inline float normal_quantile_central(float p) {
  const float q = p - 0.5f, r = q * q;
  return (((((-3.969683028665376e+01f * r + 2.209460984245205e+02f) * r - 2.759285104469687e+02f) * r +
            1.383577518672690e+02f) * r - 3.066479806614716e+01f) * r + 2.506628277459239e+00f) * q /
         (((((-5.447609879822406e+01f * r + 1.615858368580409e+02f) * r - 1.556989798598866e+02f) * r +
            6.680131188771972e+01f) * r - 1.328068155288572e+01f) * r + 1.f);
}

inline float normal_quantile_tail(float p) {
  const float q = std::sqrt(-2.f * std::log(p < 0.5f ? p : 1.f - p));
  const float x = (((((-7.784894002430293e-03f * q - 3.223964580411365e-01f) * q - 2.400758276161838e+00f) * q -
                     2.549732539343734e+00f) * q + 4.374664141464968e+00f) * q + 2.938163982698783e+00f) /
                  ((((7.784695709041462e-03f * q + 3.224671290700398e-01f) * q + 2.445134137142996e+00f) * q +
                    3.754408661907416e+00f) * q + 1.f);
  return p < 0.5f ? x : -x;
}

constexpr float kQuantileLow = 0.02425f;
constexpr int64_t kNormalBlock = 1024;

// Values b0 … b0 + len − 1 (len ≤ kNormalBlock) of random_normal's sequence into o.
PROBUNET_AVX2_CLONES void random_normal_block(float* o, int64_t b0, int64_t len, uint32_t k1, uint32_t k2) {
  float p[kNormalBlock];
  int32_t tails[kNormalBlock];
  // Every value as if central (vectorised): a uniform from two rounds of a 32-bit hash of the index
  // (its top 23 bits, at the midpoints of 2^23 cells: p in [2^-24, 1 − 2^-24], both ends exact in
  // float, so 1 − p is never 0; with 24 bits the top cell's midpoint rounded to 1 and gave NaN).
  for (int64_t j = 0; j < len; ++j) {
    const uint64_t i = static_cast<uint64_t>(b0 + j);
    const uint32_t h = fmix32(fmix32(static_cast<uint32_t>(i) ^ k1) + (static_cast<uint32_t>(i >> 32) ^ k2));
    const float u = (static_cast<float>(static_cast<int32_t>(h >> 9)) + 0.5f) * 0x1p-23f;
    p[j] = u;
    o[j] = normal_quantile_central(u);
  }
  // The tails (≈ 4.9 % of values): their indices gathered without branches, then each one redone.
  int64_t m = 0;
  for (int64_t j = 0; j < len; ++j) {
    tails[m] = static_cast<int32_t>(j);
    m += (p[j] < kQuantileLow) | (p[j] > 1.f - kQuantileLow);
  }
  for (int64_t t = 0; t < m; ++t) o[tails[t]] = normal_quantile_tail(p[tails[t]]);
}

}  // namespace

void random_normal(float* out, int64_t n, uint64_t seed) {
  if (n == 0) return;
  const uint64_t key = mix64(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  const uint32_t k1 = static_cast<uint32_t>(key), k2 = static_cast<uint32_t>(key >> 32);
  parallel_for(n, kMinPerThread, [&](int64_t lo, int64_t hi) {
    for (int64_t b0 = lo; b0 < hi; b0 += kNormalBlock) random_normal_block(out + b0, b0, std::min(kNormalBlock, hi - b0), k1, k2);
  });
}

double sum_squares(const float* x, int64_t n) {
  return blocked_sum(n, [&](int64_t i0, int64_t i1) {
    float acc = 0.f;
    for (int64_t i = i0; i < i1; ++i) acc += x[i] * x[i];
    return acc;
  });
}

}  // namespace probunet
