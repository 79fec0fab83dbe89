// The persistent thread pool behind run_tasks. One mutex guards the queue of jobs and each job's
// helper count and error; tasks are claimed with an atomic counter. A job lives on its caller's
// stack: the caller takes it off the queue and waits until no helper holds it before returning.
#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

namespace probunet {
namespace {

constexpr int kMaxThreads = 64;

int initial_threads() {
  if (const char* env = std::getenv("PROBUNET_NATIVE_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return std::min(n, kMaxThreads);
  }
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return std::min(n, kMaxThreads);
  }
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(std::min<unsigned>(hw, kMaxThreads)) : 1;
}

std::atomic<int> g_threads{initial_threads()};

struct Job {
  TaskRef task;
  int64_t n;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  int helpers = 0;           // guarded by Pool::mu
  std::exception_ptr error;  // guarded by Pool::mu: the first exception a task threw
};

class Pool {
 public:
  void run(int64_t n, TaskRef task) {
    Job job{task, n};
    {
      std::lock_guard<std::mutex> lock(mu_);
      grow(static_cast<int>(std::min<int64_t>(n - 1, kMaxThreads - 1)));
      queue_.push_back(&job);
    }
    if (n - 1 >= static_cast<int64_t>(workers_count_.load(std::memory_order_relaxed))) {
      wake_.notify_all();
    } else {
      for (int64_t i = 1; i < n; ++i) wake_.notify_one();
    }
    work_on(job);
    {
      std::unique_lock<std::mutex> lock(mu_);
      remove(&job);
      done_.wait(lock, [&] { return job.helpers == 0; });
    }
    if (job.error) std::rethrow_exception(job.error);
  }

  void shutdown() {
    std::vector<std::thread> joining;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      joining.swap(workers_);
      workers_count_.store(0, std::memory_order_relaxed);
    }
    wake_.notify_all();
    for (std::thread& t : joining) t.join();
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }

  int size() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(workers_.size());
  }

 private:
  // Under mu_: start workers until there are `want`. A thread that cannot be started (a process
  // limit) is not an error: the callers run the tasks themselves.
  void grow(int want) {
    while (static_cast<int>(workers_.size()) < want && !stopping_) {
      try {
        workers_.emplace_back([this] { loop(); });
#ifdef __linux__
        pthread_setname_np(workers_.back().native_handle(), "probunet-pool");  // shown in /proc, gdb, top -H
#endif
      } catch (const std::exception&) {
        break;
      }
    }
    workers_count_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  }

  // Under mu_.
  void remove(Job* job) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (*it == job) {
        queue_.erase(it);
        return;
      }
    }
  }

  void work_on(Job& job) {
    for (;;) {
      const int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.n) return;
      if (job.failed.load(std::memory_order_relaxed)) continue;
      try {
        job.task.call(job.task.context, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!job.error) job.error = std::current_exception();
        job.failed.store(true, std::memory_order_relaxed);
      }
    }
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      Job* job = queue_.front();
      ++job->helpers;
      lock.unlock();
      work_on(*job);
      lock.lock();
      // Every task is claimed: no one else should pick this job up.
      remove(job);
      if (--job->helpers == 0) done_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<Job*> queue_;
  std::vector<std::thread> workers_;
  std::atomic<int> workers_count_{0};
  bool stopping_ = false;
};

// Never destroyed: a static destructor at exit would race with threads Node has not yet stopped.
// Its threads are joined by shutdown_pool (the addon's environment cleanup hook).
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int threads() { return g_threads.load(std::memory_order_relaxed); }
void set_threads(int n) { g_threads.store(n > 0 ? std::min(n, kMaxThreads) : initial_threads(), std::memory_order_relaxed); }

void run_tasks(int64_t n, TaskRef task) {
  if (n <= 0) return;
  if (n == 1) {
    task.call(task.context, 0);
    return;
  }
  pool().run(n, task);
}

void shutdown_pool() { pool().shutdown(); }
int pool_size() { return pool().size(); }

}  // namespace probunet
