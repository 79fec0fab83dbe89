#pragma once
#include <algorithm>
#include <cstdint>

#include "parallel.h"
#include "scratch.h"

namespace probunet {

// out[c] = Σ_r row_r[c] over rows [0, rows), where rowFn(r, acc) adds row r into acc[0, cols) (and
// may write elsewhere). Each thread takes a band of rows, sums 256 rows at a time in float and
// carries the total in double; the bands' totals are added in order. The error stays that of a
// 256-term float sum; the result depends on the thread count only through the band boundaries.
template <typename RowFn>
void band_column_sums(int64_t rows, int64_t cols, float* out, RowFn rowFn) {
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads(), rows * cols / (1 << 16)));
  Scratch<double> totals = alloc_scratch<double>(t * cols, "per-thread column sums");
  const int64_t per = (rows + t - 1) / t;
  auto band = [&](int64_t w) {
    const int64_t lo = std::min(rows, w * per), hi = std::min(rows, (w + 1) * per);
    Scratch<float> acc = alloc_scratch<float>(cols, "column sums");
    double* total = totals.get() + w * cols;
    std::fill(total, total + cols, 0.0);
    for (int64_t r0 = lo; r0 < hi; r0 += 256) {
      std::fill(acc.get(), acc.get() + cols, 0.f);
      const int64_t r1 = std::min(hi, r0 + 256);
      for (int64_t r = r0; r < r1; ++r) rowFn(r, acc.get());
      for (int64_t c = 0; c < cols; ++c) total[c] += acc[c];
    }
  };
  run_tasks(t, band);
  for (int64_t c = 0; c < cols; ++c) {
    double s = 0;
    for (int64_t w = 0; w < t; ++w) s += totals[w * cols + c];
    out[c] = static_cast<float>(s);
  }
}

// out[c] = Σ_r x[r*cols + c]: a sum over the leading axes of a row-major tensor.
void sum_leading(const float* x, int64_t rows, int64_t cols, float* out);
// dst[r, 0:width] = src[r, colStart:colStart+width] (a slice along the last axis).
void copy_columns(const float* src, int64_t rows, int64_t srcCols, int64_t colStart, int64_t width, float* dst);
// The gradient of a VALID average pool (no padding, no dilation), NHWC.
void avg_pool_grad_valid(const float* dy, int64_t batch, int64_t outH, int64_t outW, int64_t channels, int64_t inH,
                         int64_t inW, int64_t fh, int64_t fw, int64_t sh, int64_t sw, float* dx);

// A VALID average pool (no padding, no dilation), NHWC: out [batch, outH, outW, channels].
void avg_pool_valid(const float* x, int64_t batch, int64_t inH, int64_t inW, int64_t channels, int64_t outH,
                    int64_t outW, int64_t fh, int64_t fw, int64_t sh, int64_t sw, float* out);
// dst[r, colStart:colStart+width] = src[r, 0:width] (one input of a concatenation along the last axis).
void paste_columns(const float* src, int64_t rows, int64_t width, float* dst, int64_t dstCols, int64_t colStart);

// Bilinear resize of NHWC images [batch, inH, inW, c] → [batch, outH, outW, c], and its gradient
// (halfPixelCenters false), with TensorFlow.js's coordinate rules.
void resize_bilinear(const float* x, int64_t batch, int64_t inH, int64_t inW, int64_t channels, int64_t outH,
                     int64_t outW, bool alignCorners, bool halfPixelCenters, float* out);
void resize_bilinear_grad(const float* dy, int64_t batch, int64_t yH, int64_t yW, int64_t channels, int64_t xH,
                          int64_t xW, bool alignCorners, float* dx);

}  // namespace probunet
