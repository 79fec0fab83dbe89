// Element-wise kernels, multi-threaded over the pool: the part of a training step that is neither
// a convolution nor a matrix product (activations and their gradients, bias additions, the loss,
// the optimiser's updates).
#pragma once
#include <cstdint>

namespace probunet {

enum BinaryOp : int {
  kBinaryAdd = 0,
  kBinarySub = 1,
  kBinaryMul = 2,
  kBinaryDiv = 3,
  kBinaryMaximum = 4,
  kBinaryMinimum = 5,
  kBinarySquaredDifference = 6,
  kBinaryOpCount = 7,
};

enum UnaryOp : int {
  kUnaryRelu = 0,
  kUnaryStep = 1,  // x > 0 ? 1 : alpha (NaN stays NaN)
  kUnarySqrt = 2,
  kUnarySquare = 3,
  kUnaryExp = 4,
  kUnaryLog = 5,
  kUnaryNeg = 6,
  kUnaryAbs = 7,
  kUnarySigmoid = 8,
  kUnaryTanh = 9,
  kUnaryRsqrt = 10,
  kUnaryReciprocal = 11,
  kUnarySoftplus = 12,
  kUnaryLog1p = 13,
  kUnaryOpCount = 14,
};

// out[i] = op(a[i % na], b[i % nb]) for i in [0, n): na and nb are each 1, n, or a divisor of n (a
// tensor broadcast along leading axes). The caller checks the sizes.
void binary(int op, const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n);

// The general broadcast, on shapes collapsed to 4 dimensions: out[i0,i1,i2,i3] =
// op(a[Σ ij·aStride[j]], b[Σ ij·bStride[j]]), out contiguous; a stride of 0 broadcasts.
void binary_strided(int op, const float* a, const int64_t* aStride, const float* b, const int64_t* bStride, float* out,
                    const int64_t* dims);

// out[i] = op(x[i]) (alpha: Step's value at x ≤ 0). out may alias x.
void unary(int op, const float* x, float* out, int64_t n, float alpha);

// out[i] = Σ_j xs[j][i].
void add_n(const float* const* xs, int64_t count, float* out, int64_t n);

// out[o, c] = Σ_r x[o, r, c]: a sum over a contiguous run of axes (leading: outer = 1; trailing:
// cols = 1), float sums of 256 terms carried in double.
void sum_axes(const float* x, int64_t outer, int64_t rows, int64_t cols, float* out);

// out[o, c] = max_r x[o, r, c] (rows ≥ 1): a max over a contiguous run of axes; NaN propagates, as in
// TensorFlow.js.
void max_axes(const float* x, int64_t outer, int64_t rows, int64_t cols, float* out);

// The gradient of relu(pre) through its output y, and of a bias added before it, in one pass:
// dx[r, c] = dy[r, c] · step(y[r, c]) (step: 1 where y > 0, 0 elsewhere, NaN where y is NaN, as
// TensorFlow.js's Step), db[c] = Σ_r dx[r, c] (sums as sum_axes: 256-term float blocks carried in
// double, per-thread bands added in order). dx may alias dy.
void relu_grad_bias(const float* dy, const float* y, float* dx, float* db, int64_t rows, int64_t cols);

// One Adam step over n parameters, in one pass (the op order of probunet's Adam, so the result is
// the same as its chain of element-wise kernels):
//   m' = m·β1 + g·(1 − β1), v' = v·β2 + g²·(1 − β2)   (m, v null: the first step, m = v = 0 dropped)
//   u = m' / (√v' + ε) · stepSize, w' = w − u
// Returns Σ u² (in double): NaN or Inf when any update is. Outputs may alias their inputs.
double adam_update(const float* w, const float* g, const float* m, const float* v, float* wOut, float* mOut,
                   float* vOut, int64_t n, float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2,
                   float epsilon, float stepSize);

// The softmax log-likelihood of a target under S draws of logits per group, over rows of K classes:
//   ll[g, s] = Σ_p Σ_k t[g, p, k] · log softmax(x[g, s, p, :])_k      (x [G, S, P, K], t [G, P, K])
// with lse[g, s, p] = log Σ_k exp(x[g, s, p, k]) kept for the gradient. Each row's log-sum-exp is
// max + log Σ exp(x − max); the sums over rows are carried in double. Every row counts NaN as the
// chain of element-wise kernels does (a NaN logit anywhere in a row makes that draw's ll NaN).
void softmax_log_likelihood(const float* x, const float* t, float* ll, float* lse, int64_t groups, int64_t draws,
                            int64_t rows, int64_t classes);

// Its gradient: dx[g, s, p, k] = dll[g, s] · (t[g, p, k] − exp(x[g, s, p, k] − lse[g, s, p]) · Σ_k t[g, p, k]).
void softmax_log_likelihood_grad(const float* x, const float* t, const float* lse, const float* dll, float* dx,
                                 int64_t groups, int64_t draws, int64_t rows, int64_t classes);

// n standard-normal floats, a function of (seed, index) only (the same values on any number of
// threads): a uniform from two rounds of a 32-bit hash of the index under a key from the seed (its
// top 23 bits), mapped by the inverse normal CDF (Acklam's rational approximation, relative error
// below 1.2·10⁻⁹, evaluated in float); |values| < 5.4.
void random_normal(float* out, int64_t n, uint64_t seed);

// Σ x² over n floats (float sums of 256 terms carried in double): NaN or Inf when any term is.
double sum_squares(const float* x, int64_t n);

}  // namespace probunet
