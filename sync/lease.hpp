// The node lease: one node at a time checkpoints a remote root. The LEASE
// pointer names the holder (node id, host, pid, local root), and is switched with
// the store's conditional write, like CURRENT, so two nodes can never both
// take it. The holder renews it every third of its term; a node that finds
// it held waits to see whether the holder renews: if it does not within
// the term, the holder is gone (crashed with the node) and the lease is
// taken; if it does, the node refuses and says who holds it and until when.
// Liveness is judged by watching, on this node's clock, not by comparing
// clocks, so a skewed clock cannot steal a live lease.
//
// A node is FRACTFS_NODE_ID, else the host name: a restarted container
// with the same name takes its own lease back at once. Copies of an app
// on one host that share a remote root need node ids of their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sync/store.hpp"

namespace fractfs {

struct Config;

// Another node holds the lease; what() says which, until when, and what to do.
class LeaseHeld : public StoreError {
 public:
  using StoreError::StoreError;
};

struct LeaseValue {
  std::string node, root, host;
  long pid = 0;
  double seconds = 0;           // the term
  std::int64_t expires_ns = 0;  // on the holder's clock; 0: released
};
std::string serialize(const LeaseValue& v);
LeaseValue parse_lease(std::string_view text, std::string_view what);

class Lease {
 public:
  Lease(Store& store, const Config& cfg);

  bool enabled() const noexcept { return seconds_ > 0; }
  // Takes the lease (waiting at most one term to see whether a holder is
  // alive), or takes it over whatever holds it. Throws LeaseHeld, StoreError.
  void acquire(bool take_over);
  // Extends the term; false when another node took the lease (this node
  // must stop checkpointing). Throws StoreError when the store cannot be
  // reached (the lease may still be ours: try again).
  bool renew();
  // Lets it go at once (a clean exit): the next node need not wait.
  void release() noexcept;
  bool held() const noexcept { return version_.has_value(); }
  // In a forked child: the parent holds it.
  void abandon() noexcept { version_.reset(); }
  // Seconds between renewals.
  double renew_every() const noexcept { return seconds_ / 3; }
  // Who holds it, for doctor and messages ("" if nobody).
  static std::string describe_holder(Store& store);

 private:
  LeaseValue mine(double seconds) const;
  bool ours(const LeaseValue& v) const;
  bool swap(const std::optional<std::string>& expected, const LeaseValue& v);
  std::string refusal(const LeaseValue& v) const;

  Store& store_;
  std::string node_, root_;
  double seconds_;
  std::optional<std::string> version_;  // the pointer's version while we hold it
};

}  // namespace fractfs
