#include "elementwise.h"

#include <algorithm>
#include <cmath>
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

double sum_squares(const float* x, int64_t n) {
  return blocked_sum(n, [&](int64_t i0, int64_t i1) {
    float acc = 0.f;
    for (int64_t i = i0; i < i1; ++i) acc += x[i] * x[i];
    return acc;
  });
}

}  // namespace probunet
