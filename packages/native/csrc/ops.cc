// Memory-bound kernels that wasm runs single-threaded and slowly for the layouts a U-Net produces.
#include "ops.h"

#include <algorithm>
#include <cstring>

#include "parallel.h"
#include "scratch.h"

namespace probunet {

void sum_leading(const float* x, int64_t rows, int64_t cols, float* out) {
  // Each thread sums a band of rows into its own float accumulators, 256 rows at a time, and
  // carries the running total in double: the error stays that of a 256-term float sum.
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
      for (int64_t r = r0; r < r1; ++r) {
        const float* row = x + r * cols;
        for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
      }
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

void copy_columns(const float* src, int64_t rows, int64_t srcCols, int64_t colStart, int64_t width, float* dst) {
  if (rows == 0 || width == 0) return;  // dst may then be a null pointer: memcpy must not see it
  parallel_for(rows, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) std::memcpy(dst + r * width, src + r * srcCols + colStart, width * sizeof(float));
  });
}

void avg_pool_grad_valid(const float* dy, int64_t batch, int64_t outH, int64_t outW, int64_t channels, int64_t inH,
                         int64_t inW, int64_t fh, int64_t fw, int64_t sh, int64_t sw, float* dx) {
  if (batch == 0 || inH * inW * channels == 0) return;  // dx may then be a null pointer
  const float scale = 1.f / static_cast<float>(fh * fw);
  parallel_for(batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      float* dxb = dx + b * inH * inW * channels;
      std::memset(dxb, 0, sizeof(float) * inH * inW * channels);
      const float* dyb = dy + b * outH * outW * channels;
      for (int64_t oy = 0; oy < outH; ++oy)
        for (int64_t ox = 0; ox < outW; ++ox) {
          const float* g = dyb + (oy * outW + ox) * channels;
          for (int64_t ky = 0; ky < fh; ++ky)
            for (int64_t kx = 0; kx < fw; ++kx) {
              float* d = dxb + ((oy * sh + ky) * inW + ox * sw + kx) * channels;
              for (int64_t c = 0; c < channels; ++c) d[c] += g[c] * scale;
            }
        }
    }
  });
}

}  // namespace probunet
