#include "sync/holder.hpp"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "sync/sys.hpp"

namespace fractfs {
namespace {

constexpr double kDrainEvery = 1.0;          // seconds between journal drains
constexpr std::size_t kMaxPending = 200000;  // beyond: a walk is cheaper

}  // namespace

Holder::Holder(Engine& engine, Logger log)
    : engine_(engine),
      log_(std::move(log)),
      lease_(engine.store(), engine.cfg()),
      writers_(engine.cfg().root_real.empty() ? engine.cfg().root : engine.cfg().root_real) {
  // For tests: how long a file changing during every read keeps its previous version.
  if (const char* s = ::getenv("FRACTFS_INTERNAL_SETTLE_SECONDS")) settle_seconds_ = std::atof(s);
}

void Holder::stop_renewing() noexcept {
  if (!renewer_.joinable()) return;
  {
    std::lock_guard<std::mutex> g(renew_mutex_);
    renew_stop_ = true;
  }
  renew_wake_.notify_all();
  renewer_.join();
}

Holder::~Holder() {
  stop(false);
  if (!running_) {
    stop_renewing();
    lease_.release();
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Holder::claim_lease(bool take_over, bool at_start) {
  if (!lease_.enabled() || lease_.held()) return;
  if (at_start && is_restored(engine_.state())) {
    // This node has restored before: the app starts without waiting for
    // the store (as it always did), and the thread takes the lease first.
    lease_later_ = true;
    take_over_ = take_over;
    return;
  }
  try {
    lease_.acquire(take_over);
  } catch (const LeaseHeld&) {
    throw;
  } catch (const std::exception& e) {
    // A store that cannot be written (read-only, unreachable): the restore
    // decides whether the app starts; checkpoints will say what fails, and
    // the lease is tried again (keep_lease) until it is had.
    log_(true, std::string("cannot take the lease, this node tries again before each checkpoint: ") + e.what());
    take_over_ = take_over;
    lease_retry_ = true;
    return;
  }
  if (take_over) log_(false, "took the lease over: this node checkpoints " + engine_.store().describe());
}

// Renews the lease (from the renewer thread, or before a commit over
// another writer's); false when another node has taken it: from then on
// every checkpoint fails with that reason (the app's exit is not kept
// waiting, and fractfs-run says its last changes are not saved). A store
// that cannot be reached is not a loss: the lease may still be ours, and
// the next renewal tries again.
bool Holder::keep_lease() noexcept {
  if (lease_lost_.load()) return false;
  std::lock_guard<std::mutex> g(lease_mutex_);
  if (!lease_.held()) return !lease_retry_.load() || retry_lease();
  try {
    if (lease_.renew()) return true;
  } catch (const std::exception& e) {
    log_(true, std::string("cannot renew the lease (retried): ") + e.what());
    return true;
  }
  std::string holder;
  try {
    holder = Lease::describe_holder(engine_.store());
  } catch (...) {
  }
  log_(true, "another node took the lease over (" + holder +
                 "): this node stops checkpointing; its changes from "
                 "now on are not saved");
  lease_lost_ = true;  // the holder goes on answering, with that error
  return false;
}

// The lease that could not be taken at start (the store failed): taken
// now, or found held by another node, which makes this one stop; a store
// still failing is tried again next time. Called with lease_mutex_ held.
bool Holder::retry_lease() noexcept {
  try {
    lease_.acquire(take_over_);
    lease_retry_ = false;
    log_(false, "took the lease: this node checkpoints " + engine_.store().describe());
    return true;
  } catch (const LeaseHeld& e) {
    lease_retry_ = false;
    log_(true, std::string(e.what()) + ". This node does not checkpoint: its changes are not saved");
    lease_lost_ = true;
    return false;
  } catch (const std::exception&) {
    return true;  // said when it first failed
  }
}

// Renews the lease every third of its term, apart from the checkpoints: a
// long first upload must not let the lease lapse.
void Holder::renew_loop() noexcept {
  std::unique_lock<std::mutex> lk(renew_mutex_);
  while (!renew_stop_) {
    auto period = std::chrono::duration<double>(lease_.renew_every());
    if (renew_wake_.wait_for(lk, period, [&] { return renew_stop_; })) break;
    lk.unlock();
    bool kept = keep_lease();
    lk.lock();
    if (!kept) break;
  }
}

bool Holder::try_acquire() noexcept {
  if (lock_.held()) return true;
  if (!engine_.state().ensure() || !lock_.try_acquire(engine_.state().path("holder.lock"))) return false;
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.fd(), 0) == 0) (void)!::pwrite(lock_.fd(), pid.data(), pid.size(), 0);
  status_.holder_pid = ::getpid();
  status_.holder_since_ns = sys::now_ns();
  return true;
}

void Holder::adopt(Snapshot snap) { snap_ = std::move(snap); }

// The snapshot and the journal.
void Holder::prepare() {
  if (!snap_) snap_ = load_snapshot(engine_);
  status_.generation = snap_->current.number;
  if (!journal_ok_) {
    try {
      journal_.open(engine_.state().path("journal"));
      journal_ok_ = true;
    } catch (const std::exception& e) {
      fail(std::string("no write tracking, every checkpoint walks the whole root: ") + e.what());
    }
  }
}

void Holder::drain() {
  if (!journal_ok_) {
    lost_ = true;
    return;
  }
  journal::Batch b = journal_.drain();
  if (b.lost) lost_ = true;
  for (journal::Record& r : b.events) {
    if (r.event == journal::Event::opened) writers_.opened(r.path, r.pid);
    if (r.event == journal::Event::closed) writers_.closed(r.path, r.pid);
    pending_.insert(std::move(r.path));
  }
  if (pending_.size() > kMaxPending) {
    pending_.clear();
    lost_ = true;
  }
}

bool Holder::reconcile_due() const noexcept {
  long every = engine_.cfg().reconcile_every;
  return lost_ || (every > 0 && taken_ % static_cast<std::uint64_t>(every) == 0);
}

CheckpointReport Holder::take(bool full, Progress* progress) {
  if (lease_retry_.load()) keep_lease();  // not taken at start: before this checkpoint commits anything
  if (lease_lost_.load()) throw LeaseHeld("another node holds the lease: this node no longer checkpoints");
  prepare();
  drain();
  std::uint64_t drained_to = journal_ok_ ? journal_.consumed() : 0;
  full = full || reconcile_due();
  // Events recorded before the walk starts are covered by it.
  std::uint64_t head = full && journal_ok_ ? journal_.head() : 0;
  for (std::string& rel : writers_.prune()) pending_.insert(std::move(rel));
  std::vector<std::string> paths(pending_.begin(), pending_.end());
  for (std::string& rel : writers_.paths()) paths.push_back(std::move(rel));
  CheckpointOptions opt;
  opt.full = full;
  opt.rehash = full && engine_.cfg().content_hash;
  opt.progress = progress;
  opt.settle_seconds = settle_seconds_;
  ++taken_;
  CheckpointReport rep;
  try {
    try {
      rep = checkpoint(engine_.env(), *snap_, paths, opt);
    } catch (const StaleSnapshot& e) {
      // Another writer moved the store on: take its generation as the base
      // and make this node's tree current over it with a full walk, unless
      // that writer is a node that took the lease over.
      if (!keep_lease()) throw;
      log_(false, e.what());
      snap_ = load_current(engine_.store(), &snap_->model);
      opt.full = full = true;
      head = journal_ok_ ? journal_.head() : 0;
      rep = checkpoint(engine_.env(), *snap_, {}, opt);
    }
  } catch (const StoreError&) {
    throw;  // pending_ stays: looked at again next time
  } catch (...) {
    lost_ = true;  // anything else: walk everything next time
    throw;
  }
  pending_.clear();
  if (full) {
    if (journal_ok_) journal_.skip_to(head);
    lost_ = false;
    save_index(engine_, *snap_);
  }
  // What an exiting app process asks: is there anything to wait for?
  if (journal_ok_)
    journal_.set_saved(writers_.size() || rep.kept_dirty ? journal::Reader::kNotSaved : full ? head : drained_to);
  const Generation& g = rep.generation;
  status_.generation = g.number;
  status_.time_ns = sys::now_ns();
  status_.duration = rep.seconds;
  status_.files = g.files, status_.dirs = g.dirs, status_.symlinks = g.symlinks, status_.bytes = g.bytes;
  if (rep.committed) status_.new_bytes = g.new_bytes;
  status_.dirty = rep.kept_dirty;
  status_.torn = rep.torn;
  status_.cloned = rep.cloned;
  status_.unsettled = rep.unsettled;
  ++status_.checkpoints;
  status_.last_error.clear();
  last_error_logged_.clear();
  for (const std::string& p : rep.problems) log_(false, "checkpoint: " + p);
  for (const std::string& p : rep.unsettled) log_(false, "checkpoint: " + p);
  write_status();
  return rep;
}

CheckpointReport Holder::checkpoint_here(bool full, Progress* progress) {
  try {
    return take(full, progress);
  } catch (const std::exception& e) {
    fail(std::string("checkpoint failed: ") + e.what());
    throw;
  }
}

bool Holder::take_logged(bool full) noexcept {
  if (lease_lost_.load()) return false;  // said once, when it was lost
  try {
    take(full, nullptr);
    return true;
  } catch (const std::exception& e) {
    fail(std::string("checkpoint failed (the previous generation stays current; retried later): ") + e.what());
  } catch (...) {
    fail("checkpoint failed: unknown error");
  }
  return false;
}

void Holder::fail(const std::string& what) noexcept {
  try {
    status_.last_error = what;
    status_.last_error_ns = sys::now_ns();
    write_status();
    if (what != last_error_logged_) log_(true, what);  // once per distinct error
    last_error_logged_ = what;
  } catch (...) {
  }
}

void Holder::write_status() noexcept {
  try {
    sys::write_file(engine_.state().path("status"), serialize(status_), false);
  } catch (...) {
  }
}

// One control request: "checkpoint [full]" takes one now and answers
// "ok GENERATION COMMITTED SECONDS DIRTY"; "pending" answers "ok PATHS
// LOST": how many paths changed since the last checkpoint (LOST: more, the
// journal overflowed).
void Holder::serve() noexcept {
  int client = -1;
  auto req = control_.accept_request(client);
  if (!req) return;
  std::string reply;
  try {
    if (*req == "pending") {
      drain();
      reply = fmt::format("ok {} {}", pending_.size(), lost_ ? 1 : 0);
    } else if (*req == "checkpoint" || *req == "checkpoint full" || *req == "checkpoint exit") {
      if (*req == "checkpoint exit") exit_requested_ = sys::seconds_now();
      CheckpointReport r = take(*req == "checkpoint full", nullptr);
      reply = fmt::format("ok {} {} {:.6f} {}", r.generation.number, r.committed ? 1 : 0, r.seconds, r.kept_dirty);
    } else {
      reply = "error unknown request '" + *req + "'";
    }
  } catch (const std::exception& e) {
    fail(std::string("checkpoint failed: ") + e.what());
    reply = std::string("error ") + e.what();
  }
  ControlServer::reply(client, reply);
}

// The lease of a node that had restored before, taken in the thread before
// its first checkpoint. Held by another node: no checkpoints (the app
// runs; its exit says its changes are not saved).
void Holder::claim_lease_here() noexcept {
  if (lease_later_) {
    lease_later_ = false;
    try {
      claim_lease(take_over_, false);
    } catch (const std::exception& e) {
      log_(true, std::string(e.what()) + ". This node does not checkpoint: its changes are not saved");
      lease_lost_ = true;
    }
  }
  if (lease_.held() || lease_retry_.load()) renewer_ = std::thread([this] { renew_loop(); });
}

void Holder::loop() noexcept {
  claim_lease_here();
  double interval = engine_.cfg().sync_interval;
  take_logged(true);  // the start-up reconcile
  double next_drain = sys::seconds_now() + kDrainEvery;
  double next_checkpoint = sys::seconds_now() + interval;
  while (!stop_.load()) {
    double now = sys::seconds_now();
    double until = interval > 0 ? std::min(next_drain, next_checkpoint) : next_drain;
    struct pollfd fds[2] = {{control_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int ms = std::max(0, static_cast<int>((until - now) * 1000) + 1);
    if (::poll(fds, 2, ms) > 0) {
      std::uint64_t n;
      if (fds[1].revents & POLLIN) (void)!::read(wake_fd_, &n, sizeof n);
      if (fds[0].revents & POLLIN) serve();
    }
    if (stop_.load()) break;
    now = sys::seconds_now();
    if (now >= next_drain) {
      try {
        drain();
      } catch (const std::exception& e) {
        fail(std::string("reading the journal: ") + e.what());
        lost_ = true;
      }
      next_drain = now + kDrainEvery;
    }
    if (soon_.exchange(false) || (interval > 0 && now >= next_checkpoint)) {
      take_logged(false);
      next_checkpoint = sys::seconds_now() + interval;
    }
  }
  // Requests from now on find no socket and wait for the lock instead.
  control_.unlink();
  if (final_.load()) final_ok_ = !disowned_.load() && take_logged(false);
}

void* Holder::thread_main(void* self) noexcept {
  static_cast<Holder*>(self)->loop();
  return nullptr;
}

bool Holder::start() noexcept {
  if (running_) return true;
  // The snapshot is loaded in the thread: the app's start does not wait.
  if (control_.fd() < 0 && !control_.listen(engine_.state().path("holder.sock")))
    fail("no control socket, `fractfs sync` cannot reach this holder: cannot listen on " +
         engine_.state().path("holder.sock") + ": " + strerror(errno));
  if (wake_fd_ < 0) wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The thread must never run the app's signal handlers.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  running_ = ::pthread_create(&thread_, nullptr, thread_main, this) == 0;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!running_) fail("cannot start the checkpoint thread");
  return running_;
}

void Holder::checkpoint_soon() noexcept {
  soon_ = true;
  std::uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void Holder::disown() noexcept {
  disowned_ = true;
  stop_ = true;
  std::uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

std::vector<int> Holder::descriptors() const { return {lock_.fd(), control_.fd(), wake_fd_}; }

bool Holder::stop(bool final_checkpoint, double within) noexcept {
  if (!running_) return !final_checkpoint && !timed_out_;
  final_ = final_checkpoint;
  stop_ = true;
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (within >= 0) {
    struct timespec until;
    ::clock_gettime(CLOCK_REALTIME, &until);
    auto ns = static_cast<long long>(within * 1e9) + until.tv_nsec;
    until.tv_sec += static_cast<time_t>(ns / 1000000000);
    until.tv_nsec = static_cast<long>(ns % 1000000000);
    if (::pthread_timedjoin_np(thread_, nullptr, &until) != 0) return !(timed_out_ = true);
  } else {
    ::pthread_join(thread_, nullptr);
  }
  running_ = false;
  stop_renewing();
  if (final_checkpoint) lease_.release();
  return !final_checkpoint || (final_ok_.load() && !disowned_.load());
}

void Holder::abandon_after_fork() noexcept {
  running_ = false;               // the threads are the parent's, and so is the lease
  new (&renewer_) std::thread();  // forgets the parent's renewer without joining it
  lease_.abandon();
  lease_retry_ = false;
  lock_.abandon_after_fork();
  control_.abandon_after_fork();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

}  // namespace fractfs
