// A blocking parallel-for over [0, n) on the threads the kernels use (probunet::threads()).
#pragma once
#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace probunet {

int threads();

// fn(lo, hi) on disjoint ranges covering [0, n); runs inline when the work is small.
template <typename Fn>
void parallel_for(int64_t n, int64_t minPerThread, Fn fn) {
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads(), n / std::max<int64_t>(1, minPerThread)));
  if (t <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t per = (n + t - 1) / t;
  std::vector<std::thread> pool;
  for (int64_t w = 1; w < t; ++w) {
    const int64_t lo = std::min(n, w * per), hi = std::min(n, (w + 1) * per);
    pool.emplace_back([=] { fn(lo, hi); });
  }
  fn(int64_t{0}, std::min(n, per));
  for (auto& th : pool) th.join();
}

}  // namespace probunet
