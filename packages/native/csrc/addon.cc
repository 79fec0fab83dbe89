// N-API surface of the native kernels. Every size is checked against the typed arrays' lengths
// before any pointer is touched: a wrong shape is a JavaScript RangeError, never a crash. A kernel
// that runs out of scratch memory (on any thread) throws a JavaScript Error naming the kernel and
// the bytes it asked for.
#include <node_api.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "conv.h"
#include "elementwise.h"
#include "gemm.h"
#include "ops.h"
#include "parallel.h"
#include "scratch.h"
#include "winograd.h"

namespace {

struct ArgError {
  std::string message;
};

napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, "PROBUNET_NATIVE_ARGS", msg.c_str());
  return nullptr;
}

napi_value throw_out_of_memory(napi_env env, const char* kernel, const std::string& detail) {
  const std::string msg = std::string("@probunet/native ") + kernel + ": " + detail +
                          "; free memory or split the work (a smaller batch)";
  napi_throw_error(env, "PROBUNET_NATIVE_OUT_OF_MEMORY", msg.c_str());
  return nullptr;
}

// Runs body(argv) on exactly N arguments; an ArgError becomes a RangeError naming the problem, and
// running out of memory an Error naming the kernel (`what`) and the request. No C++ exception
// crosses into Node.
template <size_t N, typename Body>
napi_value with_args(napi_env env, napi_callback_info info, const char* what, Body body) {
  size_t argc = N;
  napi_value argv[N];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != N) return throw_error(env, std::string(what) + " takes " + std::to_string(N) + " arguments");
  try {
    body(argv);
  } catch (const ArgError& e) {
    return throw_error(env, e.message);
  } catch (const probunet::OutOfScratchMemory& e) {
    return throw_out_of_memory(env, what, e.what());
  } catch (const std::bad_alloc&) {
    return throw_out_of_memory(env, what, "out of memory (std::bad_alloc)");
  } catch (const std::exception& e) {
    napi_throw_error(env, "PROBUNET_NATIVE_INTERNAL", (std::string("@probunet/native ") + what + ": " + e.what()).c_str());
  }
  return nullptr;
}

// The product of sizes, refused when it exceeds 2^53 (so that it can neither overflow int64 nor
// slip past a length check by wrapping round).
int64_t product(std::initializer_list<int64_t> sizes, const char* what) {
  int64_t p = 1;
  for (const int64_t s : sizes) {
    if (s == 0) return 0;
  }
  for (const int64_t s : sizes) {
    if (__builtin_mul_overflow(p, s, &p) || p > (int64_t{1} << 53)) {
      throw ArgError{std::string("the sizes of ") + what + " multiply to more than 2^53 values"};
    }
  }
  return p;
}

// A Float32Array argument, or null when allowNull and the value is null/undefined.
const float* get_f32(napi_env env, napi_value v, const char* name, size_t* length, bool allowNull = false) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (allowNull && (t == napi_null || t == napi_undefined)) {
    *length = 0;
    return nullptr;
  }
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) throw ArgError{std::string(name) + " must be a Float32Array"};
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset);
  if (type != napi_float32_array) throw ArgError{std::string(name) + " must be a Float32Array"};
  return static_cast<const float*>(data);
}

int64_t get_int(napi_env env, napi_value v, const char* name) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !std::isfinite(d) || d != std::floor(d) || d < 0 ||
      d > 9.0e15) {
    throw ArgError{std::string(name) + " must be a non-negative integer"};
  }
  return static_cast<int64_t>(d);
}

bool get_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

probunet::Epilogue get_epilogue(napi_env env, napi_value bias, napi_value act, napi_value alpha, int64_t n) {
  probunet::Epilogue ep;
  size_t len = 0;
  ep.bias = get_f32(env, bias, "bias", &len, true);
  if (ep.bias && static_cast<int64_t>(len) != n) {
    throw ArgError{"bias has " + std::to_string(len) + " values, expected " + std::to_string(n)};
  }
  const int64_t a = get_int(env, act, "activation");
  if (a > probunet::kElu) throw ArgError{"unknown activation code " + std::to_string(a)};
  ep.activation = static_cast<int>(a);
  double al = 0;
  napi_get_value_double(env, alpha, &al);
  ep.alpha = static_cast<float>(al);
  return ep;
}

void need(const char* name, size_t have, int64_t want) {
  if (static_cast<int64_t>(have) < want) {
    throw ArgError{std::string(name) + " has " + std::to_string(have) + " values, the shapes need " +
                   std::to_string(want)};
  }
}

// Reads argc integers from argv[from..] into v.
void get_ints(napi_env env, napi_value* argv, size_t from, size_t count, const char* const* names, int64_t* v) {
  for (size_t i = 0; i < count; ++i) v[i] = get_int(env, argv[from + i], names[i]);
}

// A VALID pooling window: arguments (batch, inH, inW, channels, outH, outW, fh, fw, sh, sw) from argv[from].
struct PoolArgs {
  int64_t batch, inH, inW, ch, outH, outW, fh, fw, sh, sw;
};
PoolArgs get_pool(napi_env env, napi_value* argv, size_t from) {
  int64_t v[10];
  static const char* names[10] = {"batch", "inH", "inW", "channels", "outH", "outW", "fh", "fw", "sh", "sw"};
  get_ints(env, argv, from, 10, names, v);
  const PoolArgs p{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
  if (p.fh < 1 || p.fw < 1 || p.sh < 1 || p.sw < 1) throw ArgError{"pool sizes and strides must be ≥ 1"};
  if ((p.outH > 0 && (p.outH - 1) * p.sh + p.fh > p.inH) || (p.outW > 0 && (p.outW - 1) * p.sw + p.fw > p.inW)) {
    throw ArgError{"the pooling windows reach outside the input (VALID pooling only)"};
  }
  return p;
}

// Reads a JavaScript array of exactly n non-negative integers.
void get_int_array(napi_env env, napi_value arr, uint32_t n, const char* what, int64_t* out) {
  bool isArray = false;
  napi_is_array(env, arr, &isArray);
  uint32_t len = 0;
  if (isArray) napi_get_array_length(env, arr, &len);
  if (!isArray || len != n) throw ArgError{std::string(what) + " must be an array of " + std::to_string(n) + " integers"};
  for (uint32_t i = 0; i < n; ++i) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    out[i] = get_int(env, e, what);
  }
}

// A kernel's number result, or nothing when its arguments threw (the exception is pending).
napi_value number_unless_thrown(napi_env env, double value) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return nullptr;
  napi_value out;
  napi_create_double(env, value, &out);
  return out;
}

// ---------------------------------------------------------------- products: gemm and convolutions (gemm.h, conv.h, winograd.h)

// gemm(a, b, c, batch, batchA, batchB, m, n, k, transA, transB, bias, activation, alpha)
// a: [batchA, m, k] ([batchA, k, m] when transA), b: [batchB, k, n] ([batchB, n, k] when transB),
// c: [batch, m, n]; batchA and batchB are 1 or batch (broadcast).
napi_value Gemm(napi_env env, napi_callback_info info) {
  return with_args<14>(env, info, "gemm", [&](napi_value* argv) {
      size_t la, lb, lc;
      const float* a = get_f32(env, argv[0], "a", &la);
      const float* b = get_f32(env, argv[1], "b", &lb);
      float* c = const_cast<float*>(get_f32(env, argv[2], "c", &lc));
      const int64_t batch = get_int(env, argv[3], "batch"), batchA = get_int(env, argv[4], "batchA"),
                    batchB = get_int(env, argv[5], "batchB");
      const int64_t m = get_int(env, argv[6], "m"), n = get_int(env, argv[7], "n"), k = get_int(env, argv[8], "k");
      const bool ta = get_bool(env, argv[9]), tb = get_bool(env, argv[10]);
      const probunet::Epilogue ep = get_epilogue(env, argv[11], argv[12], argv[13], n);
      if ((batchA != 1 && batchA != batch) || (batchB != 1 && batchB != batch)) {
        throw ArgError{"batchA and batchB must be 1 or batch"};
      }
      need("a", la, product({batchA, m, k}, "a"));
      need("b", lb, product({batchB, k, n}, "b"));
      need("c", lc, product({batch, m, n}, "c"));
      for (int64_t i = 0; i < batch; ++i) {
        const float* ai = a + (batchA == 1 ? 0 : i) * m * k;
        const float* bi = b + (batchB == 1 ? 0 : i) * k * n;
        probunet::sgemm(ta, tb, m, n, k, ai, ta ? m : k, bi, tb ? k : n, c + i * m * n, n, ep);
      }
  });
}

// conv2d(x, filter, out, shape: number[15], bias, activation, alpha)
// shape = [batch, inH, inW, inC, outH, outW, outC, kh, kw, strideH, strideW, dilH, dilW, padTop, padLeft]
probunet::ConvShape get_shape(napi_env env, napi_value arr) {
  bool isArray = false;
  napi_is_array(env, arr, &isArray);
  uint32_t len = 0;
  if (isArray) napi_get_array_length(env, arr, &len);
  if (!isArray || len != 15) throw ArgError{"conv2d shape must be an array of 15 integers"};
  int64_t v[15];
  static const char* names[15] = {"batch",   "inH",     "inW",  "inC",  "outH",   "outW",   "outC", "kh",
                                  "kw",      "strideH", "strideW", "dilH", "dilW", "padTop", "padLeft"};
  for (uint32_t i = 0; i < 15; ++i) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i] = get_int(env, e, names[i]);
  }
  probunet::ConvShape s{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  if (s.strideH < 1 || s.strideW < 1 || s.dilH < 1 || s.dilW < 1) throw ArgError{"strides and dilations must be ≥ 1"};
  return s;
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  return with_args<7>(env, info, "conv2d", [&](napi_value* argv) {
      size_t lx, lf, lo;
      const float* x = get_f32(env, argv[0], "x", &lx);
      const float* f = get_f32(env, argv[1], "filter", &lf);
      float* out = const_cast<float*>(get_f32(env, argv[2], "out", &lo));
      const probunet::ConvShape s = get_shape(env, argv[3]);
      need("x", lx, product({s.batch, s.inH, s.inW, s.inC}, "x"));
      need("filter", lf, product({s.kh, s.kw, s.inC, s.outC}, "filter"));
      need("out", lo, product({s.batch, s.outH, s.outW, s.outC}, "out"));
      const probunet::Epilogue ep = get_epilogue(env, argv[4], argv[5], argv[6], s.outC);
      probunet::conv2d(s, x, f, out, ep);
  });
}

// conv2dBackpropFilter(x, dy, dw, shape) / conv2dBackpropInput(dy, filter, dx, shape): shape is the
// forward convolution's, as for conv2d.
napi_value Conv2dBackprop(napi_env env, napi_callback_info info, bool filterGrad) {
  return with_args<4>(env, info, filterGrad ? "conv2dBackpropFilter" : "conv2dBackpropInput", [&](napi_value* argv) {
      size_t l0, l1, l2;
      const float* a0 = get_f32(env, argv[0], filterGrad ? "x" : "dy", &l0);
      const float* a1 = get_f32(env, argv[1], filterGrad ? "dy" : "filter", &l1);
      float* out = const_cast<float*>(get_f32(env, argv[2], filterGrad ? "dw" : "dx", &l2));
      const probunet::ConvShape s = get_shape(env, argv[3]);
      const int64_t nx = product({s.batch, s.inH, s.inW, s.inC}, filterGrad ? "x" : "dx"),
                    ny = product({s.batch, s.outH, s.outW, s.outC}, "dy"),
                    nw = product({s.kh, s.kw, s.inC, s.outC}, filterGrad ? "dw" : "filter");
      if (filterGrad) {
        need("x", l0, nx);
        need("dy", l1, ny);
        need("dw", l2, nw);
        probunet::conv2d_backprop_filter(s, a0, a1, out);
      } else {
        if (s.strideH != 1 || s.strideW != 1) throw ArgError{"conv2dBackpropInput needs stride 1"};
        if (s.padTop > (s.kh - 1) * s.dilH || s.padLeft > (s.kw - 1) * s.dilW) {
          throw ArgError{"conv2dBackpropInput needs padding no larger than the dilated kernel"};
        }
        need("dy", l0, ny);
        need("filter", l1, nw);
        need("dx", l2, nx);
        probunet::conv2d_backprop_input(s, a0, a1, out);
      }
  });
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) { return Conv2dBackprop(env, info, true); }
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) { return Conv2dBackprop(env, info, false); }

// ---------------------------------------------------------------- elementwise (elementwise.h)

// binary(op, a, b, out): out[i] = op(a[i % a.length], b[i % b.length]); each input's length is 1 or
// divides out's (broadcast along leading axes).
napi_value Binary(napi_env env, napi_callback_info info) {
  return with_args<4>(env, info, "binary", [&](napi_value* argv) {
      const int64_t op = get_int(env, argv[0], "op");
      if (op >= probunet::kBinaryOpCount) throw ArgError{"unknown binary op code " + std::to_string(op)};
      size_t la, lb, lo;
      const float* a = get_f32(env, argv[1], "a", &la);
      const float* b = get_f32(env, argv[2], "b", &lb);
      float* out = const_cast<float*>(get_f32(env, argv[3], "out", &lo));
      if (lo == 0) return;
      for (const auto& [name, len] : {std::pair<const char*, size_t>{"a", la}, {"b", lb}}) {
        if (len == 0 || lo % len != 0) {
          throw ArgError{std::string(name) + " has " + std::to_string(len) + " values, which must divide out's " +
                         std::to_string(lo)};
        }
      }
      probunet::binary(static_cast<int>(op), a, static_cast<int64_t>(la), b, static_cast<int64_t>(lb), out,
                       static_cast<int64_t>(lo));
  });
}

// binaryStrided(op, a, aStrides[4], b, bStrides[4], out, dims[4])
napi_value BinaryStrided(napi_env env, napi_callback_info info) {
  return with_args<7>(env, info, "binaryStrided", [&](napi_value* argv) {
      const int64_t op = get_int(env, argv[0], "op");
      if (op >= probunet::kBinaryOpCount) throw ArgError{"unknown binary op code " + std::to_string(op)};
      size_t la, lb, lo;
      const float* a = get_f32(env, argv[1], "a", &la);
      const float* b = get_f32(env, argv[3], "b", &lb);
      float* out = const_cast<float*>(get_f32(env, argv[5], "out", &lo));
      int64_t as[4], bs[4], d[4];
      get_int_array(env, argv[2], 4, "aStrides", as);
      get_int_array(env, argv[4], 4, "bStrides", bs);
      get_int_array(env, argv[6], 4, "dims", d);
      const int64_t n = product({d[0], d[1], d[2], d[3]}, "dims");
      need("out", lo, n);
      if (n == 0) return;
      int64_t lastA = 0, lastB = 0;
      for (int j = 0; j < 4; ++j) {
        lastA += (d[j] - 1) * as[j];
        lastB += (d[j] - 1) * bs[j];
      }
      need("a", la, lastA + 1);
      need("b", lb, lastB + 1);
      probunet::binary_strided(static_cast<int>(op), a, as, b, bs, out, d);
  });
}

// unary(op, x, out, alpha): out[i] = op(x[i]); x and out have the same length.
napi_value Unary(napi_env env, napi_callback_info info) {
  return with_args<4>(env, info, "unary", [&](napi_value* argv) {
      const int64_t op = get_int(env, argv[0], "op");
      if (op >= probunet::kUnaryOpCount) throw ArgError{"unknown unary op code " + std::to_string(op)};
      size_t lx, lo;
      const float* x = get_f32(env, argv[1], "x", &lx);
      float* out = const_cast<float*>(get_f32(env, argv[2], "out", &lo));
      if (lx != lo) throw ArgError{"x has " + std::to_string(lx) + " values and out " + std::to_string(lo)};
      double alpha = 0;
      napi_get_value_double(env, argv[3], &alpha);
      probunet::unary(static_cast<int>(op), x, out, static_cast<int64_t>(lo), static_cast<float>(alpha));
  });
}

// addN(xs: Float32Array[], out): out = Σ xs; every input has out's length.
napi_value AddN(napi_env env, napi_callback_info info) {
  return with_args<2>(env, info, "addN", [&](napi_value* argv) {
      bool isArray = false;
      napi_is_array(env, argv[0], &isArray);
      if (!isArray) throw ArgError{"addN's first argument must be an array of Float32Arrays"};
      uint32_t count = 0;
      napi_get_array_length(env, argv[0], &count);
      size_t lo;
      float* out = const_cast<float*>(get_f32(env, argv[1], "out", &lo));
      std::vector<const float*> xs(count);
      for (uint32_t j = 0; j < count; ++j) {
        napi_value e;
        napi_get_element(env, argv[0], j, &e);
        size_t len;
        xs[j] = get_f32(env, e, "xs[j]", &len);
        if (len != lo) throw ArgError{"xs[" + std::to_string(j) + "] has " + std::to_string(len) + " values, out " + std::to_string(lo)};
      }
      probunet::add_n(xs.data(), static_cast<int64_t>(count), out, static_cast<int64_t>(lo));
  });
}

// reluGradBias(dy, y, dx, db, rows, cols): dx = dy · step(y), db = Σ_rows dx ([rows, cols] arrays).
napi_value ReluGradBias(napi_env env, napi_callback_info info) {
  return with_args<6>(env, info, "reluGradBias", [&](napi_value* argv) {
      size_t ldy, ly, ldx, ldb;
      const float* dy = get_f32(env, argv[0], "dy", &ldy);
      const float* y = get_f32(env, argv[1], "y", &ly);
      float* dx = const_cast<float*>(get_f32(env, argv[2], "dx", &ldx));
      float* db = const_cast<float*>(get_f32(env, argv[3], "db", &ldb));
      int64_t v[2];
      static const char* names[2] = {"rows", "cols"};
      get_ints(env, argv, 4, 2, names, v);
      const int64_t n = product({v[0], v[1]}, "dy");
      need("dy", ldy, n);
      need("y", ly, n);
      need("dx", ldx, n);
      need("db", ldb, v[1]);
      probunet::relu_grad_bias(dy, y, dx, db, v[0], v[1]);
  });
}

// softmaxLogLikelihood(x, t, ll, lse, groups, draws, rows, classes): see elementwise.h.
napi_value SoftmaxLogLikelihood(napi_env env, napi_callback_info info) {
  return with_args<8>(env, info, "softmaxLogLikelihood", [&](napi_value* argv) {
      size_t lx, lt, lll, llse;
      const float* x = get_f32(env, argv[0], "x", &lx);
      const float* t = get_f32(env, argv[1], "t", &lt);
      float* ll = const_cast<float*>(get_f32(env, argv[2], "ll", &lll));
      float* lse = const_cast<float*>(get_f32(env, argv[3], "lse", &llse));
      int64_t v[4];
      static const char* names[4] = {"groups", "draws", "rows", "classes"};
      get_ints(env, argv, 4, 4, names, v);
      need("x", lx, product({v[0], v[1], v[2], v[3]}, "x"));
      need("t", lt, product({v[0], v[2], v[3]}, "t"));
      need("ll", lll, product({v[0], v[1]}, "ll"));
      need("lse", llse, product({v[0], v[1], v[2]}, "lse"));
      probunet::softmax_log_likelihood(x, t, ll, lse, v[0], v[1], v[2], v[3]);
  });
}

// softmaxLogLikelihoodGrad(x, t, lse, dll, dx, groups, draws, rows, classes): see elementwise.h.
napi_value SoftmaxLogLikelihoodGrad(napi_env env, napi_callback_info info) {
  return with_args<9>(env, info, "softmaxLogLikelihoodGrad", [&](napi_value* argv) {
      size_t lx, lt, llse, ldll, ldx;
      const float* x = get_f32(env, argv[0], "x", &lx);
      const float* t = get_f32(env, argv[1], "t", &lt);
      const float* lse = get_f32(env, argv[2], "lse", &llse);
      const float* dll = get_f32(env, argv[3], "dll", &ldll);
      float* dx = const_cast<float*>(get_f32(env, argv[4], "dx", &ldx));
      int64_t v[4];
      static const char* names[4] = {"groups", "draws", "rows", "classes"};
      get_ints(env, argv, 5, 4, names, v);
      const int64_t n = product({v[0], v[1], v[2], v[3]}, "x");
      need("x", lx, n);
      need("dx", ldx, n);
      need("t", lt, product({v[0], v[2], v[3]}, "t"));
      need("lse", llse, product({v[0], v[1], v[2]}, "lse"));
      need("dll", ldll, product({v[0], v[1]}, "dll"));
      probunet::softmax_log_likelihood_grad(x, t, lse, dll, dx, v[0], v[1], v[2], v[3]);
  });
}

// randomNormal(out, seed): see elementwise.h (seed a non-negative integer below 2^53).
napi_value RandomNormal(napi_env env, napi_callback_info info) {
  return with_args<2>(env, info, "randomNormal", [&](napi_value* argv) {
      size_t lo;
      float* out = const_cast<float*>(get_f32(env, argv[0], "out", &lo));
      const int64_t seed = get_int(env, argv[1], "seed");
      probunet::random_normal(out, static_cast<int64_t>(lo), static_cast<uint64_t>(seed));
  });
}

// ---------------------------------------------------------------- reductions (ops.h, elementwise.h)

// sumLeading(x, rows, cols, out)
napi_value SumLeading(napi_env env, napi_callback_info info) {
  return with_args<4>(env, info, "sumLeading", [&](napi_value* argv) {
      size_t lx, lo;
      const float* x = get_f32(env, argv[0], "x", &lx);
      int64_t v[2];
      static const char* names[2] = {"rows", "cols"};
      get_ints(env, argv, 1, 2, names, v);
      float* out = const_cast<float*>(get_f32(env, argv[3], "out", &lo));
      need("x", lx, product({v[0], v[1]}, "x"));
      need("out", lo, v[1]);
      probunet::sum_leading(x, v[0], v[1], out);
  });
}

// A reduction over a contiguous run of axes, (x, outer, rows, cols, out): out[o, c] = op_r x[o, r, c].
template <typename Reduce>
napi_value AxesReduction(napi_env env, napi_callback_info info, const char* what, bool needsRows, Reduce reduce) {
  return with_args<5>(env, info, what, [&](napi_value* argv) {
      size_t lx, lo;
      const float* x = get_f32(env, argv[0], "x", &lx);
      int64_t v[3];
      static const char* names[3] = {"outer", "rows", "cols"};
      get_ints(env, argv, 1, 3, names, v);
      if (needsRows && v[1] == 0) throw ArgError{std::string(what) + " needs rows ≥ 1 (the max of nothing is undefined)"};
      float* out = const_cast<float*>(get_f32(env, argv[4], "out", &lo));
      need("x", lx, product({v[0], v[1], v[2]}, "x"));
      need("out", lo, product({v[0], v[2]}, "out"));
      reduce(x, v[0], v[1], v[2], out);
  });
}

// sumAxes(x, outer, rows, cols, out): out[o, c] = Σ_r x[o, r, c]
napi_value SumAxes(napi_env env, napi_callback_info info) {
  return AxesReduction(env, info, "sumAxes", false, probunet::sum_axes);
}

// maxAxes(x, outer, rows, cols, out): out[o, c] = max_r x[o, r, c] (rows ≥ 1)
napi_value MaxAxes(napi_env env, napi_callback_info info) {
  return AxesReduction(env, info, "maxAxes", true, probunet::max_axes);
}

// sumSquares(x) → Σ x² (a number)
napi_value SumSquares(napi_env env, napi_callback_info info) {
  double total = 0;
  with_args<1>(env, info, "sumSquares", [&](napi_value* argv) {
      size_t n;
      const float* x = get_f32(env, argv[0], "x", &n);
      total = probunet::sum_squares(x, static_cast<int64_t>(n));
  });
  return number_unless_thrown(env, total);
}

// ---------------------------------------------------------------- layout copies (ops.h)

// copyColumns(src, rows, srcCols, colStart, width, dst)
napi_value CopyColumns(napi_env env, napi_callback_info info) {
  return with_args<6>(env, info, "copyColumns", [&](napi_value* argv) {
      size_t ls, ld;
      const float* src = get_f32(env, argv[0], "src", &ls);
      int64_t v[4];
      static const char* names[4] = {"rows", "srcCols", "colStart", "width"};
      get_ints(env, argv, 1, 4, names, v);
      float* dst = const_cast<float*>(get_f32(env, argv[5], "dst", &ld));
      if (v[2] + v[3] > v[1]) throw ArgError{"colStart + width exceeds srcCols"};
      need("src", ls, product({v[0], v[1]}, "src"));
      need("dst", ld, product({v[0], v[3]}, "dst"));
      probunet::copy_columns(src, v[0], v[1], v[2], v[3], dst);
  });
}

// pasteColumns(src, rows, width, dst, dstCols, colStart): dst[r, colStart + j] = src[r, j]
napi_value PasteColumns(napi_env env, napi_callback_info info) {
  return with_args<6>(env, info, "pasteColumns", [&](napi_value* argv) {
      size_t ls, ld;
      const float* src = get_f32(env, argv[0], "src", &ls);
      int64_t v[2];
      static const char* names[2] = {"rows", "width"};
      get_ints(env, argv, 1, 2, names, v);
      float* dst = const_cast<float*>(get_f32(env, argv[3], "dst", &ld));
      const int64_t dstCols = get_int(env, argv[4], "dstCols"), colStart = get_int(env, argv[5], "colStart");
      if (colStart + v[1] > dstCols) throw ArgError{"colStart + width exceeds dstCols"};
      need("src", ls, product({v[0], v[1]}, "src"));
      need("dst", ld, product({v[0], dstCols}, "dst"));
      probunet::paste_columns(src, v[0], v[1], dst, dstCols, colStart);
  });
}

// ---------------------------------------------------------------- pooling and resizing (ops.h)

// avgPoolValid(x, out, batch, inH, inW, channels, outH, outW, fh, fw, sh, sw)
napi_value AvgPoolValid(napi_env env, napi_callback_info info) {
  return with_args<12>(env, info, "avgPoolValid", [&](napi_value* argv) {
      size_t lx, lo;
      const float* x = get_f32(env, argv[0], "x", &lx);
      float* out = const_cast<float*>(get_f32(env, argv[1], "out", &lo));
      const PoolArgs p = get_pool(env, argv, 2);
      need("x", lx, product({p.batch, p.inH, p.inW, p.ch}, "x"));
      need("out", lo, product({p.batch, p.outH, p.outW, p.ch}, "out"));
      probunet::avg_pool_valid(x, p.batch, p.inH, p.inW, p.ch, p.outH, p.outW, p.fh, p.fw, p.sh, p.sw, out);
  });
}

// avgPoolGradValid(dy, dx, batch, inH, inW, channels, outH, outW, fh, fw, sh, sw)
napi_value AvgPoolGradValid(napi_env env, napi_callback_info info) {
  return with_args<12>(env, info, "avgPoolGradValid", [&](napi_value* argv) {
      size_t ly, lx;
      const float* dy = get_f32(env, argv[0], "dy", &ly);
      float* dx = const_cast<float*>(get_f32(env, argv[1], "dx", &lx));
      const PoolArgs p = get_pool(env, argv, 2);
      need("dy", ly, product({p.batch, p.outH, p.outW, p.ch}, "dy"));
      need("dx", lx, product({p.batch, p.inH, p.inW, p.ch}, "dx"));
      probunet::avg_pool_grad_valid(dy, p.batch, p.outH, p.outW, p.ch, p.inH, p.inW, p.fh, p.fw, p.sh, p.sw, dx);
  });
}

// resizeBilinear(x, out, batch, inH, inW, channels, outH, outW, alignCorners, halfPixelCenters)
napi_value ResizeBilinear(napi_env env, napi_callback_info info) {
  return with_args<10>(env, info, "resizeBilinear", [&](napi_value* argv) {
      size_t lx, lo;
      const float* x = get_f32(env, argv[0], "x", &lx);
      float* out = const_cast<float*>(get_f32(env, argv[1], "out", &lo));
      int64_t v[6];
      static const char* names[6] = {"batch", "inH", "inW", "channels", "outH", "outW"};
      get_ints(env, argv, 2, 6, names, v);
      if ((v[1] == 0 || v[2] == 0) && v[0] * v[3] * v[4] * v[5] > 0) throw ArgError{"resizeBilinear needs a non-empty input"};
      need("x", lx, product({v[0], v[1], v[2], v[3]}, "x"));
      need("out", lo, product({v[0], v[4], v[5], v[3]}, "out"));
      probunet::resize_bilinear(x, v[0], v[1], v[2], v[3], v[4], v[5], get_bool(env, argv[8]), get_bool(env, argv[9]), out);
  });
}

// resizeBilinearGrad(dy, dx, batch, yH, yW, channels, xH, xW, alignCorners)
napi_value ResizeBilinearGrad(napi_env env, napi_callback_info info) {
  return with_args<9>(env, info, "resizeBilinearGrad", [&](napi_value* argv) {
      size_t ly, lx;
      const float* dy = get_f32(env, argv[0], "dy", &ly);
      float* dx = const_cast<float*>(get_f32(env, argv[1], "dx", &lx));
      int64_t v[6];
      static const char* names[6] = {"batch", "yH", "yW", "channels", "xH", "xW"};
      get_ints(env, argv, 2, 6, names, v);
      if ((v[4] == 0 || v[5] == 0) && v[0] * v[1] * v[2] * v[3] > 0) throw ArgError{"resizeBilinearGrad needs a non-empty input"};
      need("dy", ly, product({v[0], v[1], v[2], v[3]}, "dy"));
      need("dx", lx, product({v[0], v[4], v[5], v[3]}, "dx"));
      probunet::resize_bilinear_grad(dy, v[0], v[1], v[2], v[3], v[4], v[5], get_bool(env, argv[8]), dx);
  });
}

// ---------------------------------------------------------------- the optimiser (elementwise.h)

// adamUpdate(w, g, m | null, v | null, wOut, mOut, vOut, [beta1, 1-beta1, beta2, 1-beta2, epsilon, stepSize])
// → Σ u² (a number). Every array has w's length.
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  double sumSq = 0;
  with_args<8>(env, info, "adamUpdate", [&](napi_value* argv) {
      size_t lw, lg, lm = 0, lv = 0, lwo, lmo, lvo;
      const float* w = get_f32(env, argv[0], "w", &lw);
      const float* g = get_f32(env, argv[1], "g", &lg);
      const float* m = get_f32(env, argv[2], "m", &lm, true);
      const float* v = get_f32(env, argv[3], "v", &lv, true);
      float* wo = const_cast<float*>(get_f32(env, argv[4], "wOut", &lwo));
      float* mo = const_cast<float*>(get_f32(env, argv[5], "mOut", &lmo));
      float* vo = const_cast<float*>(get_f32(env, argv[6], "vOut", &lvo));
      if ((m == nullptr) != (v == nullptr)) throw ArgError{"m and v must both be given (a later step) or both be null (the first)"};
      const size_t n = lw;
      const auto same = [&](const char* name, size_t len) {
        if (len != n) throw ArgError{std::string(name) + " has " + std::to_string(len) + " values, w " + std::to_string(n)};
      };
      same("g", lg);
      if (m) {
        same("m", lm);
        same("v", lv);
      }
      same("wOut", lwo);
      same("mOut", lmo);
      same("vOut", lvo);
      bool isArray = false;
      napi_is_array(env, argv[7], &isArray);
      uint32_t count = 0;
      if (isArray) napi_get_array_length(env, argv[7], &count);
      if (!isArray || count != 6) throw ArgError{"adamUpdate's hyperparameters must be [beta1, 1 - beta1, beta2, 1 - beta2, epsilon, stepSize]"};
      float h[6];
      for (uint32_t i = 0; i < 6; ++i) {
        napi_value e;
        napi_get_element(env, argv[7], i, &e);
        double d = 0;
        if (napi_get_value_double(env, e, &d) != napi_ok || !std::isfinite(d)) throw ArgError{"adamUpdate's hyperparameters must be finite numbers"};
        h[i] = static_cast<float>(d);
      }
      sumSq = probunet::adam_update(w, g, m, v, wo, mo, vo, static_cast<int64_t>(n), h[0], h[1], h[2], h[3], h[4], h[5]);
  });
  return number_unless_thrown(env, sumSq);
}

// ---------------------------------------------------------------- configuration (ISA, threads, Winograd) and registration

const char* isa_name(probunet::Isa i) {
  return i == probunet::kIsaAvx512 ? "avx512" : i == probunet::kIsaAvx2 ? "avx2" : "portable";
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, avx2, threads, isa, isas;
  napi_create_object(env, &obj);
  const probunet::Isa current = probunet::isa();
  napi_get_boolean(env, current != probunet::kIsaPortable, &avx2);
  napi_create_int32(env, probunet::threads(), &threads);
  napi_set_named_property(env, obj, "avx2", avx2);
  napi_create_string_utf8(env, isa_name(current), NAPI_AUTO_LENGTH, &isa);
  napi_set_named_property(env, obj, "isa", isa);
  napi_create_array(env, &isas);
  uint32_t n = 0;
  for (int i = probunet::kIsaAvx512; i >= probunet::kIsaPortable; --i) {
    if (!probunet::isa_supported(static_cast<probunet::Isa>(i))) continue;
    napi_value name;
    napi_create_string_utf8(env, isa_name(static_cast<probunet::Isa>(i)), NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, isas, n++, name);
  }
  napi_set_named_property(env, obj, "isas", isas);
  napi_value winograd;
  napi_get_boolean(env, probunet::winograd(), &winograd);
  napi_set_named_property(env, obj, "winograd", winograd);
  napi_set_named_property(env, obj, "threads", threads);
  const probunet::ScratchCacheStats st = probunet::scratch_cache_stats();
  napi_value cacheObj, reused, allocated, freeBytes;
  napi_create_object(env, &cacheObj);
  napi_create_double(env, static_cast<double>(st.reused), &reused);
  napi_create_double(env, static_cast<double>(st.allocated), &allocated);
  napi_create_double(env, static_cast<double>(st.freeBytes), &freeBytes);
  napi_set_named_property(env, cacheObj, "reused", reused);
  napi_set_named_property(env, cacheObj, "allocated", allocated);
  napi_set_named_property(env, cacheObj, "freeBytes", freeBytes);
  napi_set_named_property(env, obj, "scratchCache", cacheObj);
  return obj;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 0) {
    return throw_error(env, "setThreads takes one integer ≥ 0 (0: as many as the processor has)");
  }
  probunet::set_threads(n);
  return nullptr;
}

// setIsa('avx512' | 'avx2' | 'portable'): the micro-kernel for the calls that follow.
napi_value SetIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char buf[16] = {0};
  size_t len = 0;
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) != napi_ok) {
    return throw_error(env, "setIsa takes one of 'avx512', 'avx2' or 'portable'");
  }
  const std::string name(buf, len);
  probunet::Isa want;
  if (name == "avx512") want = probunet::kIsaAvx512;
  else if (name == "avx2") want = probunet::kIsaAvx2;
  else if (name == "portable") want = probunet::kIsaPortable;
  else return throw_error(env, ("setIsa: unknown kernel '" + name + "'; use 'avx512', 'avx2' or 'portable'").c_str());
  if (!probunet::set_isa(want)) {
    return throw_error(env, ("setIsa: this processor lacks " + name + " (info().isas lists what it has)").c_str());
  }
  return nullptr;
}

// setWinograd(on): Winograd F(2×2, 3×3) for the convolutions that qualify, or the direct product.
napi_value SetWinograd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  bool on = false;
  if (argc != 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    return throw_error(env, "setWinograd takes one boolean (true: Winograd for 3×3 stride-1 convolutions; false: the direct product)");
  }
  probunet::set_winograd(on);
  return nullptr;
}

// Node environments (the main thread and each worker thread) that loaded the addon: the last one
// to exit joins the thread pool's threads.
std::atomic<int> g_environments{0};

void on_environment_exit(void*) {
  if (g_environments.fetch_sub(1) == 1) probunet::shutdown_pool();
}

napi_value Init(napi_env env, napi_value exports) {
  g_environments.fetch_add(1);
  napi_add_env_cleanup_hook(env, on_environment_exit, nullptr);
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binaryStrided", nullptr, BinaryStrided, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addN", nullptr, AddN, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluGradBias", nullptr, ReluGradBias, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumLeading", nullptr, SumLeading, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumAxes", nullptr, SumAxes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxAxes", nullptr, MaxAxes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyColumns", nullptr, CopyColumns, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pasteColumns", nullptr, PasteColumns, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPoolValid", nullptr, AvgPoolValid, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"avgPoolGradValid", nullptr, AvgPoolGradValid, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeBilinear", nullptr, ResizeBilinear, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeBilinearGrad", nullptr, ResizeBilinearGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxLogLikelihood", nullptr, SoftmaxLogLikelihood, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxLogLikelihoodGrad", nullptr, SoftmaxLogLikelihoodGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"randomNormal", nullptr, RandomNormal, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setWinograd", nullptr, SetWinograd, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
