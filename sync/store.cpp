// What every store shares: the sources, the conveniences over the
// streaming calls, the parallel loop, and open_store's dispatch.
#include "sync/store.hpp"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <cstring>

#include "resolver/config.hpp"
#include "sync/pack_store.hpp"
#include "sync/parallel.hpp"
#include "sync/skeleton.hpp"
#include "sync/sys.hpp"

namespace fractfs {

NetworkStoreOpener g_network_store_opener = nullptr;

std::size_t BytesSource::read_at(std::uint64_t offset, char* buf, std::size_t n) const {
  if (offset >= data_.size()) return 0;
  std::size_t len = std::min<std::size_t>(n, data_.size() - offset);
  std::memcpy(buf, data_.data() + offset, len);
  return len;
}

std::size_t FileSource::read_at(std::uint64_t offset, char* buf, std::size_t n) const {
  if (offset >= length_) return 0;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, length_ - offset));
  ssize_t got = sys::pread_full(fd_, buf, want, static_cast<off_t>(offset_ + offset));
  if (got < 0) throw StoreError(std::string("cannot read the file being stored: ") + strerror(errno));
  if (static_cast<std::size_t>(got) < want) throw StoreError("the file being stored shrank while it was read");
  return want;
}

std::optional<std::string> Store::get(const std::string& key) {
  std::string out;
  if (!load(key, [&](std::string_view b) { out.append(b); })) return std::nullopt;
  return out;
}

void Store::put(const std::string& key, std::string_view data) { save(key, BytesSource(data)); }

std::vector<std::string> Store::list(const std::string& prefix) {
  std::vector<std::string> keys;
  walk(prefix, [&](const ObjectInfo& o) { keys.push_back(o.key); });
  return keys;
}

void for_each_parallel(Store& store, std::size_t n, const std::function<void(std::size_t)>& fn) {
  unsigned threads =
      std::max(1u, std::min<unsigned>(store.caps().max_parallel, static_cast<unsigned>(std::min<std::size_t>(n, 64))));
  parallel_for(n, threads, [&](std::size_t i, unsigned) { fn(i); });
}

std::unique_ptr<Store> open_store(const Config& cfg) {
  if (cfg.passthrough()) throw StoreError("no remote_root is configured: there is no checkpoint store");
  if (cfg.backend == Backend::mount) {
    require_remote_root(cfg);  // never created here: see sync/skeleton.hpp
    return pack_objects(open_mount_store(cfg.remote_root + "/" + cfg.checkpoint_subdir + "/.fractfs"));
  }
  if (!g_network_store_opener)
    throw StoreError("backend '" + std::string(backend_name(cfg.backend)) +
                     "' is reached by the fractfs programs only (fractfs, fractfs-run), never from inside the app");
  return pack_objects(g_network_store_opener(cfg));
}

}  // namespace fractfs
