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

// 64-byte aligned, uninitialised; throws OutOfScratchMemory. `purpose` says what it is for.
void* alloc_scratch_bytes(size_t count, size_t elementSize, const char* purpose);

struct FreeScratch {
  void operator()(void* p) const;
};
template <typename T>
using Scratch = std::unique_ptr<T[], FreeScratch>;

// count elements of a trivially constructible T.
template <typename T>
Scratch<T> alloc_scratch(int64_t count, const char* purpose) {
  return Scratch<T>(static_cast<T*>(alloc_scratch_bytes(count < 0 ? 0 : static_cast<size_t>(count), sizeof(T), purpose)));
}

}  // namespace probunet
