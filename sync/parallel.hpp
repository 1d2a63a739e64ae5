// A small fork-join loop for the sync engine: reading, hashing and storing
// many files wants a few threads (and an object store, many requests in
// flight). Workers are started per call; a checkpoint is rare enough.
#pragma once

#include <cstddef>
#include <functional>

namespace fractfs {

// Runs fn(i, worker) for i in [0, n) on up to `threads` threads (the caller
// is one of them). The first exception stops the loop and is rethrown.
void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t, unsigned)>& fn);

// Threads for I/O-bound work here: a few, but not more than there is work.
unsigned worker_count(std::size_t items);

}  // namespace fractfs
