// Path-sized buffers for the shim's slow paths, taken from a pool of this
// thread's instead of its stack. An app thread may run on a stack of 16 KiB
// (a Python or Java thread pool, Node's inspector): a few 4 KiB paths on
// it would overflow it. The pool is mapped on a thread's first slow path
// (memory is touched only as used) and unmapped when the thread ends; a
// buffer is taken with one atomic operation, so a signal handler that
// calls into the shim mid-call is safe. With all slots taken (deep
// recursion), buffers come from malloc.
#pragma once

#include <cstddef>

#include "resolver/path.hpp"

namespace fractfs::shim::scratch {

// A buffer of path::kMax bytes, or nullptr when no memory is left.
char* take() noexcept;
void give(char* buf) noexcept;

// One buffer for a scope.
class Buf {
 public:
  Buf() noexcept : p_(take()) {}
  ~Buf() { give(p_); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  char* get() const noexcept { return p_; }
  bool ok() const noexcept { return p_ != nullptr; }
  static constexpr std::size_t size() noexcept { return path::kMax; }

 private:
  char* p_;
};

}  // namespace fractfs::shim::scratch
