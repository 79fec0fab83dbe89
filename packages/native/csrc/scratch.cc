#include "scratch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace probunet {
namespace {

// PROBUNET_NATIVE_SCRATCH_LIMIT=<bytes>: refuse any single scratch allocation larger than this, as
// if the machine were out of memory (for tests of the out-of-memory path). Read once, at load.
size_t read_limit() {
  const char* env = std::getenv("PROBUNET_NATIVE_SCRATCH_LIMIT");
  if (!env || !*env) return std::numeric_limits<size_t>::max();
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  return end && *end == '\0' ? static_cast<size_t>(v) : std::numeric_limits<size_t>::max();
}

const size_t kLimit = read_limit();

std::string describe(size_t bytes, const char* purpose) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "out of memory allocating %.1f MB (%zu bytes) of scratch space for %s",
                static_cast<double>(bytes) / 1048576.0, bytes, purpose);
  return buf;
}

// Large blocks are kept for reuse: a fresh multi-megabyte block costs a page fault and a zero-fill
// per 4 KB page on first touch (the allocator maps and unmaps them), which for a padded copy of a
// convolution's input is a fifth of the convolution's own time. A freed large block goes to a free
// list; an allocation takes the smallest free block that fits, whatever its size (scratch lives for
// one kernel call, so a large block lent to a small request is soon back). The free blocks are
// capped at 256 MB or twice the largest block asked for so far, whichever is more, and beyond that
// the smallest are returned to the system first: a batch of 32 LIDC images pads a 207 MB input
// every step, and a cap below it (as the first version had) freed and page-faulted it back each
// time (53,000 faults, 0.8 s of a 6 s step, measured 2026-12-01).
constexpr size_t kCachedFrom = size_t{1} << 18;  // 256 KB
constexpr size_t kCacheBytes = size_t{256} << 20;

struct BlockCache {
  std::mutex mutex;
  std::unordered_map<void*, size_t> capacity;  // every cached-kind block alive or free
  std::vector<std::pair<size_t, void*>> free;   // (capacity, block)
  size_t freeBytes = 0;
  size_t largest = 0;  // the largest block asked for so far
  uint64_t reused = 0, allocated = 0;
  size_t cap() const { return std::max(kCacheBytes, 2 * largest); }
};

BlockCache& cache() {
  static BlockCache* c = new BlockCache();  // never destroyed: blocks may be freed at exit
  return *c;
}

void* take_cached(size_t rounded) {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.largest = std::max(c.largest, rounded);
  size_t best = c.free.size();
  for (size_t i = 0; i < c.free.size(); ++i) {
    const size_t cap = c.free[i].first;
    if (cap >= rounded && (best == c.free.size() || cap < c.free[best].first)) best = i;
  }
  if (best == c.free.size()) return nullptr;
  void* p = c.free[best].second;
  ++c.reused;
  c.freeBytes -= c.free[best].first;
  c.free[best] = c.free.back();
  c.free.pop_back();
  return p;
}

void remember(void* p, size_t rounded) {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.capacity[p] = rounded;
  ++c.allocated;
}

// True when p was a cached-kind block (now on the free list or returned to the system).
bool give_back(void* p) {
  BlockCache& c = cache();
  std::vector<void*> release;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    const auto it = c.capacity.find(p);
    if (it == c.capacity.end()) return false;
    const size_t cap = it->second;
    c.free.emplace_back(cap, p);
    c.freeBytes += cap;
    while (c.freeBytes > c.cap()) {
      size_t smallest = 0;
      for (size_t i = 1; i < c.free.size(); ++i)
        if (c.free[i].first < c.free[smallest].first) smallest = i;
      c.freeBytes -= c.free[smallest].first;
      release.push_back(c.free[smallest].second);
      c.capacity.erase(c.free[smallest].second);
      c.free[smallest] = c.free.back();
      c.free.pop_back();
    }
  }
  for (void* q : release) std::free(q);
  return true;
}

// Returns every free cached block to the system (before an allocation is declared out of memory).
void release_free() {
  BlockCache& c = cache();
  std::vector<void*> release;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    for (const auto& [cap, p] : c.free) {
      release.push_back(p);
      c.capacity.erase(p);
    }
    c.free.clear();
    c.freeBytes = 0;
  }
  for (void* q : release) std::free(q);
}

}  // namespace

ScratchCacheStats scratch_cache_stats() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.reused, c.allocated, c.freeBytes};
}

OutOfScratchMemory::OutOfScratchMemory(size_t bytes, const char* purpose)
    : bytes_(bytes), message_(describe(bytes, purpose)) {}

void* alloc_scratch_bytes(size_t count, size_t elementSize, const char* purpose, bool* cached) {
  *cached = false;
  if (count > (std::numeric_limits<size_t>::max() - 63) / elementSize) {
    throw OutOfScratchMemory(std::numeric_limits<size_t>::max(), purpose);
  }
  const size_t bytes = count * elementSize;
  const size_t rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
  if (bytes > kLimit) throw OutOfScratchMemory(bytes, purpose);
  if (rounded >= kCachedFrom) {
    if (void* p = take_cached(rounded)) {
      *cached = true;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) {
    release_free();  // the cache's free blocks first, then try once more
    p = std::aligned_alloc(64, rounded);
  }
  if (!p) throw OutOfScratchMemory(bytes, purpose);
  if (rounded >= kCachedFrom) {
    try {
      remember(p, rounded);
      *cached = true;
    } catch (...) {
      std::free(p);
      throw OutOfScratchMemory(bytes, purpose);
    }
  }
  return p;
}

void FreeScratch::operator()(void* p) const {
  if (!p) return;
  if (!cached || !give_back(p)) std::free(p);
}

}  // namespace probunet
