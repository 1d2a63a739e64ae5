#include "sync/lease.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "sync/checkpoint.hpp"
#include "sync/generation.hpp"
#include "sync/kv.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr std::string_view kHeader = "fractfs-lease 1";
constexpr double kPollSeconds = 0.5;
constexpr int kMaxLostSwaps = 20;  // a store that never lets a swap through
// A lease expired by more than this on our clock (beyond any sane clock
// skew; `fractfs doctor` checks skew) is taken without watching a term.
constexpr double kStaleSeconds = 120;

std::string when(std::int64_t ns) { return ns ? sys::utc_time(ns) + " UTC" : std::string("released"); }

}  // namespace

std::string serialize(const LeaseValue& v) {
  return fmt::format("{}\nnode {}\nroot {}\nhost {}\npid {}\nseconds {}\nexpires_ns {}\nexpires {}\n", kHeader, v.node,
                     v.root, v.host, v.pid, v.seconds, v.expires_ns, when(v.expires_ns));
}

LeaseValue parse_lease(std::string_view text, std::string_view what) {
  kv::Fields f(text, kHeader, std::string(what));
  LeaseValue v;
  v.node = f.str("node");
  v.root = f.str("root");
  v.host = f.str("host");
  v.pid = f.num<long>("pid", false);
  v.seconds = f.num<double>("seconds");
  v.expires_ns = f.num<std::int64_t>("expires_ns");
  return v;
}

Lease::Lease(Store& store, const Config& cfg)
    : store_(store),
      node_(cfg.node_id.empty() ? host_name() : cfg.node_id),
      root_(cfg.root),
      seconds_(cfg.lease_seconds) {}

LeaseValue Lease::mine(double seconds) const {
  std::int64_t expires = seconds > 0 ? sys::now_ns() + static_cast<std::int64_t>(seconds * 1e9) : 0;
  return LeaseValue{node_, root_, host_name(), static_cast<long>(::getpid()), seconds_, expires};
}

// The same node: this node restarted (its old holder died with it). On one
// node, holder.lock already keeps a root to one holder.
bool Lease::ours(const LeaseValue& v) const { return v.node == node_; }

bool Lease::swap(const std::optional<std::string>& expected, const LeaseValue& v) {
  SwapResult r = store_.swap_pointer(keys::lease, expected, serialize(v));
  if (r.won && r.current) version_ = r.current->version;
  else version_.reset();
  return r.won;
}

std::string Lease::refusal(const LeaseValue& v) const {
  return fmt::format(
      "{}: node '{}' (host {}, pid {}, root {}) holds the lease and renews it; it expires at {} "
      "unless renewed. Two nodes checkpointing one remote root would overwrite each other: stop "
      "that node, or take the lease over with 'fractfs-run --take-over' (FRACTFS_TAKE_OVER=1)",
      store_.describe(), v.node, v.host, v.pid, v.root, when(v.expires_ns));
}

void Lease::acquire(bool take_over) {
  if (!enabled()) return;
  std::string what = store_.describe() + "/" + keys::lease;
  double watched_since = sys::seconds_now();
  std::optional<Pointer> seen;
  for (int lost = 0;;) {
    if (lost > kMaxLostSwaps) throw StoreError(what + ": the lease kept changing while it was taken");
    std::optional<Pointer> p = store_.read_pointer(keys::lease);
    if (!p) {
      if (swap(std::nullopt, mine(seconds_))) return;
      ++lost;
      continue;  // another node created it first: look again
    }
    LeaseValue v = parse_lease(p->value, what);
    double expired_for = static_cast<double>(sys::now_ns() - v.expires_ns) / 1e9;
    bool free = take_over || ours(v) || v.expires_ns == 0 || expired_for > std::max(kStaleSeconds, v.seconds);
    if (seen && seen->value != p->value && !free) throw LeaseHeld(refusal(v));  // renewed: alive
    if (seen && seen->value != p->value) watched_since = sys::seconds_now();
    // Unchanged for a whole term of ours: nobody renews it.
    free = free || sys::seconds_now() - watched_since >= std::max(v.seconds, seconds_) + kPollSeconds;
    if (free) {
      if (swap(p->version, mine(seconds_))) return;
      ++lost;
      seen.reset();  // another node took it first: watch that one for a term
      watched_since = sys::seconds_now();
      continue;
    }
    seen = std::move(p);
    ::usleep(static_cast<useconds_t>(kPollSeconds * 1e6));
  }
}

bool Lease::renew() {
  if (!enabled()) return true;
  if (!version_) return false;
  return swap(version_, mine(seconds_));
}

void Lease::release() noexcept {
  if (!enabled() || !version_) return;
  try {
    swap(version_, mine(0));
  } catch (...) {
    // It expires on its own.
  }
  version_.reset();
}

std::string Lease::describe_holder(Store& store) {
  std::optional<Pointer> p = store.read_pointer(keys::lease);
  if (!p) return {};
  LeaseValue v = parse_lease(p->value, store.describe() + "/" + keys::lease);
  if (v.expires_ns == 0) return fmt::format("nobody: node '{}' released it", v.node);
  return fmt::format("node '{}' (host {}, pid {}, root {}), {} {}", v.node, v.host, v.pid, v.root,
                     v.expires_ns < sys::now_ns() ? "expired at" : "until", when(v.expires_ns));
}

}  // namespace fractfs
