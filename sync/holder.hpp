// The holder: the one process per root and node that checkpoints. It holds
// holder.lock, drains the journal, runs a checkpoint every sync_interval
// (a full reconcile at start and every reconcile_every checkpoints, or
// when the journal lost events), answers `fractfs sync` on its control
// socket, and takes a final checkpoint when stopped.
//
// fractfs-run is the holder of its app; under a bare LD_PRELOAD the first
// process of the app is, and another one takes over when it exits.
#pragma once

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "sync/checkpoint.hpp"
#include "sync/control.hpp"
#include "sync/engine.hpp"
#include "sync/journal.hpp"
#include "sync/lease.hpp"
#include "sync/open_writers.hpp"
#include "sync/state_dir.hpp"
#include "sync/status.hpp"

namespace fractfs {

class Holder {
 public:
  // Messages for the app's log: (is_error, text).
  using Logger = std::function<void(bool, const std::string&)>;

  Holder(Engine& engine, Logger log);
  ~Holder();
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  // holder.lock, without waiting. False when another process holds it.
  bool try_acquire() noexcept;
  bool held() const noexcept { return lock_.held(); }
  // The node lease (sync/lease.hpp), before the restore: a node that may
  // not checkpoint should not start the app. Throws LeaseHeld; a store
  // that cannot be written is logged, and the lease is tried again before
  // each checkpoint and by the renewer thread.
  // `at_start` on a node that has restored before: taken by the thread.
  void claim_lease(bool take_over, bool at_start = false);
  // The snapshot just restored: no need to load one.
  void adopt(Snapshot snap);

  // The helper thread (signals blocked in it). False if it could not start.
  bool start() noexcept;
  // Stops the thread; with `final_checkpoint`, after one last checkpoint.
  // False when that checkpoint was asked for and not taken (it failed, or
  // the holder was disowned): the app's last changes are not saved.
  // With `within` >= 0, waits that many seconds at most: then the thread
  // goes on, stop() returns false and timed_out() says so; the caller is
  // about to end the process and must not destroy the holder.
  bool stop(bool final_checkpoint, double within = -1) noexcept;
  bool timed_out() const noexcept { return timed_out_; }

  // Asks the thread for a checkpoint as soon as it can (from any thread).
  void checkpoint_soon() noexcept;
  // When an app process last asked for its exit checkpoint ("checkpoint
  // exit"), on sys::seconds_now()'s clock; 0: never. The app may be gone soon.
  double exit_requested() const noexcept { return exit_requested_.load(); }

  // One checkpoint in the caller's thread (no helper thread running).
  CheckpointReport checkpoint_here(bool full, Progress* progress);

  // In a forked child: forget the lock, the socket and the thread (they are
  // the parent's), without touching them.
  void abandon_after_fork() noexcept;
  // Stop checkpointing at once and for good, from any thread (the lock
  // can no longer be trusted); stop() then joins without a final checkpoint.
  void disown() noexcept;

  // The descriptors it keeps open (lock, socket, wake-up).
  std::vector<int> descriptors() const;

 private:
  static void* thread_main(void* self) noexcept;
  void loop() noexcept;
  void prepare();
  void drain();
  CheckpointReport take(bool full, Progress* progress);
  bool take_logged(bool full) noexcept;
  void serve() noexcept;
  void write_status() noexcept;
  void fail(const std::string& what) noexcept;
  bool reconcile_due() const noexcept;
  bool keep_lease() noexcept;
  void claim_lease_here() noexcept;
  void renew_loop() noexcept;
  bool retry_lease() noexcept;
  void stop_renewing() noexcept;

  Engine& engine_;
  Logger log_;
  FileLock lock_;
  Lease lease_;
  ControlServer control_;
  journal::Reader journal_;
  bool journal_ok_ = false;
  std::optional<Snapshot> snap_;
  std::set<std::string> pending_;
  OpenWriters writers_;  // open for writing somewhere in the app: looked at by every checkpoint
  bool lost_ = true;     // a full walk is due (the first checkpoint is the start-up reconcile)
  std::uint64_t taken_ = 0;
  Status status_;
  std::string last_error_logged_;

  pthread_t thread_{};
  bool running_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> final_{false};
  std::atomic<bool> disowned_{false};
  std::atomic<bool> soon_{false};
  std::atomic<double> exit_requested_{0};
  double settle_seconds_ = 60;
  std::atomic<bool> final_ok_{true};
  bool timed_out_ = false;
  int wake_fd_ = -1;

  // The lease's renewer thread; lease_mutex_ serializes renewals.
  std::thread renewer_;
  std::mutex renew_mutex_, lease_mutex_;
  std::condition_variable renew_wake_;
  bool renew_stop_ = false;
  bool lease_later_ = false, take_over_ = false;
  std::atomic<bool> lease_retry_{false};  // not taken at start (the store failed): tried again
  std::atomic<bool> lease_lost_{false};   // another node took it: no more checkpoints
};

}  // namespace fractfs
