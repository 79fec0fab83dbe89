#include "scratch.h"

#include <cstdio>
#include <cstdlib>
#include <limits>

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

}  // namespace

OutOfScratchMemory::OutOfScratchMemory(size_t bytes, const char* purpose)
    : bytes_(bytes), message_(describe(bytes, purpose)) {}

void* alloc_scratch_bytes(size_t count, size_t elementSize, const char* purpose) {
  if (count > (std::numeric_limits<size_t>::max() - 63) / elementSize) {
    throw OutOfScratchMemory(std::numeric_limits<size_t>::max(), purpose);
  }
  const size_t bytes = count * elementSize;
  const size_t rounded = bytes ? (bytes + 63) / 64 * 64 : 64;
  void* p = bytes <= kLimit ? std::aligned_alloc(64, rounded) : nullptr;
  if (!p) throw OutOfScratchMemory(bytes, purpose);
  return p;
}

void FreeScratch::operator()(void* p) const { std::free(p); }

}  // namespace probunet
