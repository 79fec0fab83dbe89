// Single-precision matrix products and convolutions for probunet's native kernels.
// Row-major float32 throughout; no allocation is visible to the caller. Scratch allocations that
// fail throw OutOfScratchMemory (scratch.h).
#pragma once
#include <cstdint>

namespace probunet {

enum Activation : int { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kSigmoid = 4, kElu = 5 };

struct Epilogue {
  const float* bias = nullptr;  // [n] or null
  int activation = kLinear;
  float alpha = 0.f;  // leaky-relu slope
};

// C[m,n] = op(A)[m,k] · op(B)[k,n] (+ bias, activation), C overwritten.
// A[i,p] = a[i*lda + p] (transA: a[p*lda + i]); B[p,j] = b[p*ldb + j] (transB: b[j*ldb + p]).
void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, const Epilogue& ep);

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

// Stride-1, undilated 3×3 convolutions with at least 8 input and 8 output channels (the forward
// pass, the input gradient through it, and the filter gradient) run as Winograd F(2×2, 3×3) (the
// filter gradient as F(3×3, 2×2)): 2.25× fewer multiplications, results within float rounding of the
// direct product. On unless PROBUNET_NATIVE_WINOGRAD=0 at load; set_winograd switches it between calls.
bool winograd();
void set_winograd(bool on);

// The micro-kernel in use: chosen at load time as the widest the processor has
// (PROBUNET_NATIVE_ISA=avx2|avx512|portable or PROBUNET_NATIVE_PORTABLE=1 ask for another);
// set_isa switches it between calls (false, and nothing changes, when the processor lacks it).
enum Isa : int { kIsaPortable = 0, kIsaAvx2 = 1, kIsaAvx512 = 2 };
Isa isa();
bool isa_supported(Isa isa);
bool set_isa(Isa isa);

}  // namespace probunet
