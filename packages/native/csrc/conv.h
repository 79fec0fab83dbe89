// NHWC convolutions and their gradients for probunet's native kernels, on the blocked GEMM.
// Row-major float32 throughout; no allocation is visible to the caller. Scratch allocations that
// fail throw OutOfScratchMemory (scratch.h).
#pragma once
#include <cstdint>

#include "gemm.h"

namespace probunet {

// NHWC convolution, filter [kh, kw, inC, outC], output [batch, outH, outW, outC], overwritten.
struct ConvShape {
  int64_t batch, inH, inW, inC, outH, outW, outC, kh, kw, strideH, strideW, dilH, dilW, padTop, padLeft;
};
void conv2d(const ConvShape& s, const float* x, const float* filter, float* out, const Epilogue& ep);

// Gradients of conv2d with respect to the filter (dw [kh, kw, inC, outC], overwritten) and to the
// input (dx [batch, inH, inW, inC], overwritten), from dy [batch, outH, outW, outC]. The input
// gradient needs stride 1 (any dilation).
void conv2d_backprop_filter(const ConvShape& s, const float* x, const float* dy, float* dw);
void conv2d_backprop_input(const ConvShape& s, const float* dy, const float* filter, float* dx);

}  // namespace probunet
