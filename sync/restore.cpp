#include "sync/restore.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "resolver/config.hpp"
#include "resolver/resolver.hpp"
#include "sync/capture.hpp"
#include "sync/parallel.hpp"
#include "sync/progress.hpp"
#include "sync/restore_util.hpp"
#include "sync/sqlite_capture.hpp"
#include "sync/store.hpp"
#include "sync/sys.hpp"

namespace fractfs {
namespace {

struct Tally {
  std::atomic<std::uint64_t> files{0}, bytes{0}, dirs{0}, symlinks{0};
  std::atomic<std::uint64_t> unchanged{0}, kept_newer{0}, skipped{0}, conflicts{0};

  void into(RestoreReport& r) const {
    r.files = files, r.bytes = bytes, r.dirs = dirs, r.symlinks = symlinks;
    r.unchanged = unchanged, r.kept_newer = kept_newer, r.skipped = skipped, r.conflicts = conflicts;
  }
};

class Restorer {
 public:
  Restorer(const SyncEnv& env, const RestoreOptions& opt, RestoreReport& rep, Model& model, int root_fd)
      : env_(env), opt_(opt), rep_(rep), model_(model), root_fd_(root_fd) {}

  void run() {
    walk("", true, false);
    parallel_for(files_.size(), worker_count(files_.size()),
                 [&](std::size_t i, unsigned) { file(files_[i].first, files_[i].second); });
    if (!opt_.dry_run) finish_dirs();
    tally_.into(rep_);
  }

 private:
  void note(std::string what) {
    std::lock_guard<std::mutex> lock(notes_mu_);
    if (rep_.notes.size() < 50) rep_.notes.push_back(std::move(what));
  }

  bool allowed(const std::string& rel, bool is_dir) const {
    Tier t = env_.resolver.decide(rel, is_dir).tier;
    return t == Tier::local_synced || (is_dir && t == Tier::remote);
  }

  // `exists`: the directory is on disk (in a dry run, one to be created is
  // not); `fresh`: this restore created it, so nothing is in it yet.
  void walk(const std::string& rel, bool exists, bool fresh) {
    const Model::Dir* d = model_.dir(rel);
    if (!d) return;
    for (const auto& [name, e] : d->entries) {
      std::string child = join_rel(rel, name);
      if (!allowed(child, e.is_dir())) {
        ++tally_.skipped;
        note(child + ": skipped, its tier is no longer local_synced");
        continue;
      }
      switch (e.kind) {
        case EntryKind::dir: directory(child, exists && !fresh); break;
        case EntryKind::symlink: symlink(child, e, exists && !fresh); break;
        case EntryKind::file: files_.emplace_back(child, fresh); break;
      }
    }
  }

  void directory(const std::string& rel, bool parent_exists) {
    struct stat st;
    bool exists = parent_exists && ::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISDIR(st.st_mode)) {
      ++tally_.conflicts;
      return note(rel + ": not restored, a file of that name is here (and what the checkpoint has below it)");
    }
    if (!exists) {
      ++tally_.dirs;
      if (!opt_.dry_run && ::mkdirat(root_fd_, rel.c_str(), 0700) != 0)
        throw StoreError(fmt::format("cannot create {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
    }
    dirs_.push_back(rel);
    walk(rel, exists || !opt_.dry_run, !exists);
  }

  // Local state that wins over the checkpoint's entry, if any (counted).
  bool keep_local(const std::string& rel, const Entry& e, bool exists, const struct stat& st) {
    if (!exists) return false;
    if (S_ISDIR(st.st_mode)) {
      ++tally_.conflicts;
      note(rel + ": not restored, a directory of that name is here");
      return true;
    }
    bool same = e.kind == EntryKind::file ? S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == e.size &&
                                                sys::mtime_ns(st) == e.mtime_ns
                                          : S_ISLNK(st.st_mode) && same_link(rel, e);
    if (same) {
      ++tally_.unchanged;
      model_.set_local(rel, st.st_dev, st.st_ino, sys::ctime_ns(st));
      return true;
    }
    if (newer_here(e, st)) {
      ++tally_.kept_newer;
      note(rel + ": kept, the local copy is newer than the checkpoint's");
      return true;
    }
    return false;
  }

  bool newer_here(const Entry& e, const struct stat& st) const {
    return sys::mtime_ns(st) > e.mtime_ns && !opt_.overwrite;
  }

  // A database's log goes with it: kept where the database is kept (a
  // newer local one), restored where it is, whatever its own age.
  bool log_of_database(const std::string& rel, bool& keep) const {
    if (!rel.ends_with("-wal")) return false;
    std::string db = rel.substr(0, rel.size() - 4);
    const Entry* e = model_.find(db);
    if (!e || e->kind != EntryKind::file || e->chunk_shift != kDatabaseChunkShift) return false;
    struct stat st;
    keep = ::fstatat(root_fd_, db.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           !(static_cast<std::uint64_t>(st.st_size) == e->size && sys::mtime_ns(st) == e->mtime_ns) &&
           newer_here(*e, st);
    return true;
  }

  // SQLite files beside a database just restored belong to the local copy
  // it replaced: an old log or a hot journal would be applied to it.
  void drop_stale_sidecars(const std::string& rel) {
    sys::Fd fd(open_for_reading(root_fd_, rel));
    struct stat st;
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !is_sqlite_database(fd.get(), st)) return;
    for (const char* suffix : {"-wal", "-shm", "-journal"})
      if (!model_.find(rel + suffix)) ::unlinkat(root_fd_, (rel + suffix).c_str(), 0);
  }

  bool same_link(const std::string& rel, const Entry& e) const {
    std::string buf(e.target.size() + 1, '\0');
    ssize_t n = ::readlinkat(root_fd_, rel.c_str(), buf.data(), buf.size());
    return n >= 0 && static_cast<std::size_t>(n) == e.target.size() && buf.compare(0, e.target.size(), e.target) == 0;
  }

  void symlink(const std::string& rel, const Entry& e, bool parent_exists) {
    struct stat st;
    bool exists = parent_exists && ::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (keep_local(rel, e, exists, st)) return;
    ++tally_.symlinks;
    if (opt_.dry_run) return;
    std::string tmp = temp_beside(rel);
    if (::symlinkat(e.target.c_str(), root_fd_, tmp.c_str()) != 0)
      throw StoreError(fmt::format("cannot create {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
    struct timespec times[2] = {to_timespec(e.mtime_ns), to_timespec(e.mtime_ns)};
    ::utimensat(root_fd_, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW);
    place(tmp, rel);
  }

  // `fresh`: its directory was created by this restore (no need to look).
  void file(const std::string& rel, bool fresh) {
    const Entry& e = *model_.find(rel);
    struct stat st;
    bool exists = !fresh && ::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool keep_log = false;
    if (log_of_database(rel, keep_log) ? keep_log && exists : keep_local(rel, e, exists, st)) return;
    ++tally_.files;
    tally_.bytes += e.size;
    if (opt_.progress) opt_.progress->add(1, e.size);
    if (opt_.dry_run) return;
    if (exists || !write_new(rel, e)) write_file(rel, e);
    if (e.chunk_shift == kDatabaseChunkShift) drop_stale_sidecars(rel);
  }

  // A file not there yet, written as an unnamed file (O_TMPFILE) in its
  // directory and linked under its name once complete: as safe as a
  // temporary renamed in (a crash leaves nothing half-written under the
  // name) at a third of the directory updates. False where the file system
  // has no unnamed files, /proc is missing, or the name was taken
  // meanwhile: the caller goes the temporary-and-rename way.
  bool write_new(const std::string& rel, const Entry& e) {
    std::size_t slash = rel.rfind('/');
    std::string dir = slash == std::string::npos ? "." : rel.substr(0, slash);
    sys::Fd fd(sys::open_beneath(root_fd_, dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, e.mode & 0777));
    if (fd.get() < 0) return false;
    write_content(fd.get(), rel, e, false);
    std::string proc = fmt::format("/proc/self/fd/{}", fd.get());
    if (::linkat(AT_FDCWD, proc.c_str(), root_fd_, rel.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno == EEXIST || errno == ENOENT) return false;
      throw StoreError(fmt::format("cannot create {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return true;
    if ((st.st_mode & 07777) != e.mode) {  // a default ACL, or bits the umask may not say
      if (::fchmod(fd.get(), e.mode) != 0 || ::fstat(fd.get(), &st) != 0)
        throw StoreError(fmt::format("cannot finish {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
    }
    model_.set_local(rel, st.st_dev, st.st_ino, sys::ctime_ns(st));
    return true;
  }

  void write_file(const std::string& rel, const Entry& e) {
    std::string tmp = temp_beside(rel);
    int fd = sys::open_beneath(root_fd_, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw StoreError(fmt::format("cannot create {}/{}: {}", env_.cfg.root, tmp, strerror(errno)));
    try {
      write_content(fd, rel, e, true);
      if (::close(std::exchange(fd, -1)) != 0)
        throw StoreError(fmt::format("cannot finish {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
      place(tmp, rel);
    } catch (...) {
      if (fd >= 0) ::close(fd);
      ::unlinkat(root_fd_, tmp.c_str(), 0);
      throw;
    }
  }

  // The entry's chunks (each checked against its id), mode and mtime.
  void write_content(int fd, const std::string& rel, const Entry& e, bool chmod) {
    std::uint64_t written = 0;
    for (const ObjectId& id : e.content) {
      std::string data = fetch_object(env_.store, id, rel);
      if (int err = sys::write_all(fd, data.data(), data.size()))
        throw StoreError(fmt::format("cannot write {}/{}: {}", env_.cfg.root, rel, strerror(err)));
      written += data.size();
    }
    if (written != e.size)
      throw FormatError(fmt::format("{}: the checkpoint's chunks of '{}' hold {} bytes, not {}", env_.store.describe(),
                                    rel, written, e.size));
    struct timespec times[2] = {to_timespec(e.mtime_ns), to_timespec(e.mtime_ns)};
    if ((chmod && ::fchmod(fd, e.mode) != 0) || ::futimens(fd, times) != 0)
      throw StoreError(fmt::format("cannot finish {}/{}: {}", env_.cfg.root, rel, strerror(errno)));
  }

  // Renames a finished temporary over `rel` and notes the new identity.
  void place(const std::string& tmp, const std::string& rel) {
    if (::renameat(root_fd_, tmp.c_str(), root_fd_, rel.c_str()) != 0) {
      int err = errno;
      ::unlinkat(root_fd_, tmp.c_str(), 0);
      throw StoreError(fmt::format("cannot put {}/{} in place: {}", env_.cfg.root, rel, strerror(err)));
    }
    struct stat st;
    if (::fstatat(root_fd_, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      model_.set_local(rel, st.st_dev, st.st_ino, sys::ctime_ns(st));
  }

  // Modes and mtimes of directories, children before parents: writing in a
  // directory changes its mtime.
  void finish_dirs() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      const Entry& e = *model_.find(*it);
      struct timespec times[2] = {to_timespec(e.mtime_ns), to_timespec(e.mtime_ns)};
      ::fchmodat(root_fd_, it->c_str(), e.mode, 0);
      ::utimensat(root_fd_, it->c_str(), times, AT_SYMLINK_NOFOLLOW);
      struct stat st;
      if (::fstatat(root_fd_, it->c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        model_.set_local(*it, st.st_dev, st.st_ino, sys::ctime_ns(st));
    }
  }

  const SyncEnv& env_;
  const RestoreOptions& opt_;
  RestoreReport& rep_;
  Model& model_;
  int root_fd_;
  Tally tally_;
  std::vector<std::pair<std::string, bool>> files_;  // and whether its directory is fresh
  std::vector<std::string> dirs_;
  std::mutex notes_mu_;
};

}  // namespace

RestoreReport restore(const SyncEnv& env, const RestoreOptions& opt, Snapshot* out) {
  double start = sys::seconds_now();
  RestoreReport rep;
  Generation gen, current;
  auto cur = read_current(env.store);
  if (cur) current = read_generation(env.store, cur->generation, cur->tag);
  if (opt.generation) {
    std::uint64_t n = *opt.generation, now = cur ? cur->generation : 0;
    std::optional<RecordKey> k = cur ? in_history(env.store, *cur, n) : std::nullopt;
    if (!k)
      throw StoreError(fmt::format("{}: generation {} is missing: {} (see 'fractfs log')", env.store.describe(), n,
                                   n <= now ? std::string("no longer kept (keep_generations)")
                                            : fmt::format("the current generation is {}", now)));
    gen = read_generation(env.store, k->number, k->tag);
  } else if (cur) {
    gen = current;
  } else {
    if (has_legacy_checkpoint(env.cfg)) {
      if (opt.detect_bundle) rep.bundle = detect_bundle(env, legacy_knows(env.cfg));
      restore_legacy(env, opt, rep);
    } else if (opt.detect_bundle) {
      rep.bundle = detect_bundle(env, [](const std::string&) { return false; });
    }
    rep.seconds = sys::seconds_now() - start;
    return rep;
  }
  Model model = Model::load(env.store, gen.root);
  if (opt.detect_bundle)
    rep.bundle = detect_bundle(env, [&](const std::string& rel) { return model.find(rel) != nullptr; });
  RootDir root(env.cfg.root);
  Restorer(env, opt, rep, model, root.fd()).run();
  rep.generation = gen.number;
  if (out && !opt.dry_run) {
    out->model = std::move(model);
    // Against the current generation: restoring an older one, the next
    // checkpoint makes it current again as a new generation.
    out->current = current;
    out->base = gen.number;
    out->retry.clear();
  }
  rep.seconds = sys::seconds_now() - start;
  return rep;
}

}  // namespace fractfs
