// The kernels' threads: one persistent pool per process, started lazily and grown to the thread
// setting, shared by every caller (Node's main thread and its worker threads alike). A call hands
// its tasks to the pool and runs tasks itself until none are left, so concurrent and nested calls
// never wait for a free worker; it returns when all its tasks have finished.
#pragma once
#include <algorithm>
#include <cstdint>

namespace probunet {

// Threads one call uses: setThreads(n), else PROBUNET_NATIVE_THREADS, else the CPUs in the
// process's affinity mask (a container's cpuset), at most 64.
int threads();
void set_threads(int n);

// A non-owning reference to a callable task(i); valid for the duration of one run_tasks call.
struct TaskRef {
  void* context;
  void (*call)(void* context, int64_t task);
};

// Runs task(i) for every i in [0, n) on the pool and the calling thread. If tasks throw, the
// remaining unstarted ones are skipped and the first exception is rethrown here.
void run_tasks(int64_t n, TaskRef task);

template <typename Fn>
void run_tasks(int64_t n, Fn& fn) {
  run_tasks(n, TaskRef{&fn, [](void* c, int64_t i) { (*static_cast<Fn*>(c))(i); }});
}

// Stops and joins the pool's threads (when the last Node environment using the addon exits); the
// next call starts them again.
void shutdown_pool();

// Worker threads the pool has started (for tests and diagnostics).
int pool_size();

// fn(lo, hi) on disjoint ranges covering [0, n), at most threads() of them and none smaller than
// minPerThread; runs inline when that leaves one.
template <typename Fn>
void parallel_for(int64_t n, int64_t minPerThread, Fn fn) {
  const int64_t t = std::max<int64_t>(1, std::min<int64_t>(threads(), n / std::max<int64_t>(1, minPerThread)));
  if (t <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t per = (n + t - 1) / t;
  auto range = [&](int64_t w) { fn(std::min(n, w * per), std::min(n, (w + 1) * per)); };
  run_tasks(t, range);
}

}  // namespace probunet
