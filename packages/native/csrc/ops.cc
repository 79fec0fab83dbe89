// Memory-bound kernels that wasm runs single-threaded and slowly for the layouts a U-Net produces.
#include "ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "parallel.h"
#include "scratch.h"

namespace probunet {

void sum_leading(const float* x, int64_t rows, int64_t cols, float* out) {
  band_column_sums(rows, cols, out, [&](int64_t r, float* acc) {
    const float* row = x + r * cols;
    for (int64_t c = 0; c < cols; ++c) acc[c] += row[c];
  });
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

void avg_pool_valid(const float* x, int64_t batch, int64_t inH, int64_t inW, int64_t channels, int64_t outH,
                    int64_t outW, int64_t fh, int64_t fw, int64_t sh, int64_t sw, float* out) {
  if (batch * outH * outW * channels == 0) return;
  const float scale = 1.f / static_cast<float>(fh * fw);
  parallel_for(batch * outH, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bo = lo; bo < hi; ++bo) {
      const int64_t b = bo / outH, oy = bo % outH;
      for (int64_t ox = 0; ox < outW; ++ox) {
        float* o = out + ((b * outH + oy) * outW + ox) * channels;
        std::fill(o, o + channels, 0.f);
        for (int64_t ky = 0; ky < fh; ++ky)
          for (int64_t kx = 0; kx < fw; ++kx) {
            const float* xi = x + ((b * inH + oy * sh + ky) * inW + ox * sw + kx) * channels;
            for (int64_t c = 0; c < channels; ++c) o[c] += xi[c];
          }
        for (int64_t c = 0; c < channels; ++c) o[c] *= scale;
      }
    }
  });
}

void paste_columns(const float* src, int64_t rows, int64_t width, float* dst, int64_t dstCols, int64_t colStart) {
  if (rows == 0 || width == 0) return;
  parallel_for(rows, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) std::memcpy(dst + r * dstCols + colStart, src + r * width, width * sizeof(float));
  });
}

void resize_bilinear(const float* x, int64_t batch, int64_t inH, int64_t inW, int64_t channels, int64_t outH,
                     int64_t outW, bool alignCorners, bool halfPixelCenters, float* out) {
  if (batch * outH * outW * channels == 0) return;
  const double effInH = (alignCorners && outH > 1) ? inH - 1 : inH, effInW = (alignCorners && outW > 1) ? inW - 1 : inW;
  const double effOutH = (alignCorners && outH > 1) ? outH - 1 : outH, effOutW = (alignCorners && outW > 1) ? outW - 1 : outW;
  const double rowRatio = effInH / effOutH, colRatio = effInW / effOutW;
  parallel_for(batch * outH, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t br = lo; br < hi; ++br) {
      const int64_t b = br / outH, r = br % outH;
      const double fr = halfPixelCenters ? rowRatio * (r + 0.5) - 0.5 : rowRatio * r;
      const int64_t r0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fr)));
      const float rowFrac = static_cast<float>(fr - r0);
      const int64_t r1 = std::min<int64_t>(inH - 1, static_cast<int64_t>(std::ceil(fr)));
      const float* top = x + (b * inH + r0) * inW * channels;
      const float* bottom = x + (b * inH + r1) * inW * channels;
      float* o = out + br * outW * channels;
      for (int64_t c = 0; c < outW; ++c) {
        const double fc = halfPixelCenters ? colRatio * (c + 0.5) - 0.5 : colRatio * c;
        const int64_t c0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(fc)));
        const float colFrac = static_cast<float>(fc - c0);
        const int64_t c1 = std::min<int64_t>(inW - 1, static_cast<int64_t>(std::ceil(fc)));
        const float *tl = top + c0 * channels, *tr = top + c1 * channels, *bl = bottom + c0 * channels,
                    *brt = bottom + c1 * channels;
        float* oc = o + c * channels;
        for (int64_t d = 0; d < channels; ++d) {
          const float t = tl[d] + (tr[d] - tl[d]) * colFrac;
          const float bo = bl[d] + (brt[d] - bl[d]) * colFrac;
          oc[d] = t + (bo - t) * rowFrac;
        }
      }
    }
  });
}

void resize_bilinear_grad(const float* dy, int64_t batch, int64_t yH, int64_t yW, int64_t channels, int64_t xH,
                          int64_t xW, bool alignCorners, float* dx) {
  if (batch * xH * xW * channels == 0) return;
  const double effXH = (alignCorners && yH > 1) ? xH - 1 : xH, effXW = (alignCorners && yW > 1) ? xW - 1 : xW;
  const double effYH = (alignCorners && yH > 1) ? yH - 1 : yH, effYW = (alignCorners && yW > 1) ? yW - 1 : yW;
  const double hScale = effXH / effYH, wScale = effXW / effYW;
  // Images are independent: each thread scatters into its own images' gradients.
  parallel_for(batch, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      float* dxb = dx + b * xH * xW * channels;
      std::fill(dxb, dxb + xH * xW * channels, 0.f);
      const float* g = dy + b * yH * yW * channels;
      for (int64_t r = 0; r < yH; ++r) {
        const double fr = r * hScale;
        const int64_t r0 = static_cast<int64_t>(std::floor(fr));
        const int64_t r1 = std::min<int64_t>(static_cast<int64_t>(std::ceil(fr)), xH - 1);
        const float rl = static_cast<float>(fr - r0), irl = 1.f - rl;
        for (int64_t c = 0; c < yW; ++c) {
          const double fc = c * wScale;
          const int64_t c0 = static_cast<int64_t>(std::floor(fc));
          const int64_t c1 = std::min<int64_t>(static_cast<int64_t>(std::ceil(fc)), xW - 1);
          const float cl = static_cast<float>(fc - c0), icl = 1.f - cl;
          const float wtl = irl * icl, wtr = irl * cl, wbl = rl * icl, wbr = rl * cl;
          float *tl = dxb + (r0 * xW + c0) * channels, *tr = dxb + (r0 * xW + c1) * channels,
                *bl = dxb + (r1 * xW + c0) * channels, *brt = dxb + (r1 * xW + c1) * channels;
          const float* gv = g + (r * yW + c) * channels;
          for (int64_t d = 0; d < channels; ++d) {
            const float v = gv[d];
            tl[d] += v * wtl;
            tr[d] += v * wtr;
            bl[d] += v * wbl;
            brt[d] += v * wbr;
          }
        }
      }
    }
  });
}

}  // namespace probunet
