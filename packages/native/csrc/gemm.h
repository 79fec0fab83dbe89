// Single-precision matrix products for probunet's native kernels (convolutions: conv.h, Winograd:
// winograd.h). Row-major float32 throughout; no allocation is visible to the caller. Scratch
// allocations that fail throw OutOfScratchMemory (scratch.h).
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

// The micro-kernel in use: chosen at load time as the widest the processor has
// (PROBUNET_NATIVE_ISA=avx2|avx512|portable or PROBUNET_NATIVE_PORTABLE=1 ask for another);
// set_isa switches it between calls (false, and nothing changes, when the processor lacks it).
enum Isa : int { kIsaPortable = 0, kIsaAvx2 = 1, kIsaAvx512 = 2 };
Isa isa();
bool isa_supported(Isa isa);
bool set_isa(Isa isa);

}  // namespace probunet
