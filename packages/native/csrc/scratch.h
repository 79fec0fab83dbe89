// Scratch memory for the kernels (packed panels, partial sums, segment lists). A failed allocation
// throws OutOfScratchMemory, on whichever thread it happens: the thread pool carries it to the
// calling thread and the N-API layer turns it into a JavaScript Error naming the kernel and the
// size. Nothing here aborts the process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace probunet {

class OutOfScratchMemory : public std::exception {
 public:
  OutOfScratchMemory(size_t bytes, const char* purpose);
  const char* what() const noexcept override { return message_.c_str(); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  std::string message_;
};

// 64-byte aligned, uninitialised; throws OutOfScratchMemory. `purpose` says what it is for. Blocks
// of 256 KB and more come from (and go back to) a cache of freed blocks; *cached says so.
void* alloc_scratch_bytes(size_t count, size_t elementSize, const char* purpose, bool* cached);

struct FreeScratch {
  bool cached = false;
  void operator()(void* p) const;
};
template <typename T>
using Scratch = std::unique_ptr<T[], FreeScratch>;

// The large-block cache: blocks served from it, blocks it had to allocate, bytes now free in it.
struct ScratchCacheStats {
  uint64_t reused, allocated;
  size_t freeBytes;
};
ScratchCacheStats scratch_cache_stats();

// count elements of a trivially constructible T.
template <typename T>
Scratch<T> alloc_scratch(int64_t count, const char* purpose) {
  bool cached = false;
  T* p = static_cast<T*>(alloc_scratch_bytes(count < 0 ? 0 : static_cast<size_t>(count), sizeof(T), purpose, &cached));
  return Scratch<T>(p, FreeScratch{cached});
}

}  // namespace probunet
