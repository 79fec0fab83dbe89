#pragma once
#include <cstdint>

namespace probunet {

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
