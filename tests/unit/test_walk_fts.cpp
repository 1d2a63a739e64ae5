// Differential test of fractfs::walk's fts against glibc's own: both walk
// the same real trees with many option sets, comparators and scripts of
// fts_set/fts_children calls (some changing the tree mid-walk), and what a
// caller can observe at each step must agree. Linked without the preload,
// so both reach the same filesystem through glibc.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "shim/walk_fts.hpp"
#include "tests/unit/tmpdir.hpp"

namespace fs = std::filesystem;
using fractfs::test::TempDir;

namespace {

using Compar = int (*)(const FTSENT**, const FTSENT**);
using Trace = std::vector<std::string>;

struct Api {
  FTS* (*open)(char* const*, int, Compar);
  FTSENT* (*read)(FTS*);
  FTSENT* (*children)(FTS*, int);
  int (*set)(FTS*, FTSENT*, int);
  int (*close)(FTS*);
};
const Api kGlibc{::fts_open, ::fts_read, ::fts_children, ::fts_set, ::fts_close};
const Api kOurs{fractfs::walk::fts_open, fractfs::walk::fts_read, fractfs::walk::fts_children, fractfs::walk::fts_set,
                fractfs::walk::fts_close};

const char* info_name(int info) {
  static const char* const names[] = {"?", "D",    "DC", "DEFAULT", "DNR", "DOT",    "DP", "ERR",
                                      "F", "INIT", "NS", "NSOK",    "SL",  "SLNONE", "W"};
  return info >= 0 && info <= 14 ? names[info] : "?";
}

bool is_dir_info(int info) {
  return info == FTS_D || info == FTS_DC || info == FTS_DOT || info == FTS_DP || info == FTS_DNR || info == FTS_ERR;
}

// TempDir::write without the TempDir, for plans that change the tree.
void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

bool named(const FTSENT* p, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (std::strcmp(p->fts_name, n) == 0) return true;
  return false;
}

// ---- one walk, recorded ---------------------------------------------------------

class Walk;

// What a walk does besides reading: `start` runs after fts_open, `visit`
// after each entry fts_read returns; after max_reads the stream is closed
// mid-walk.
struct Plan {
  std::string label;
  std::function<void(Walk&)> start;
  std::function<void(Walk&, FTSENT*)> visit;
  int max_reads = 5000;
};

class Walk {
 public:
  Walk(const Api& api, int options, Compar compar, std::string base, bool show_accpath)
      : api_(api), options_(options), compar_(compar), base_(std::move(base)), show_acc_(show_accpath) {}

  Trace run(const std::vector<std::string>& roots, const Plan& plan) {
    std::vector<char*> argv;
    for (const std::string& r : roots) argv.push_back(const_cast<char*>(r.c_str()));
    argv.push_back(nullptr);
    errno = 0;
    sp_ = api_.open(argv.data(), options_, compar_);
    if (sp_ == nullptr) {
      log("open NULL errno=" + std::to_string(errno));
      return trace_;
    }
    log("open options=" + std::to_string(sp_->fts_options));
    if (plan.start) plan.start(*this);
    read_all(plan);
    log("options=" + std::to_string(sp_->fts_options));
    log("close=" + std::to_string(api_.close(sp_)));
    return trace_;
  }

  FTSENT* children(int instr) {
    errno = EDOM;
    FTSENT* list = api_.children(sp_, instr);
    std::ostringstream o;
    o << "children(" << instr << ")";
    // errno is 0 for an empty list; else glibc leaves what its last stat
    // left (0 after an FTS_SLNONE).
    o << (list == nullptr ? " NULL" : "") << " errno=" << errno;
    for (FTSENT* p = list; p != nullptr; p = p->fts_link) o << "\n    " << describe(p, started_);
    log(o.str());
    return list;
  }

  int set(FTSENT* p, int instr) {
    errno = EDOM;
    const int r = api_.set(sp_, p, instr);
    log("set " + std::string(p->fts_name) + " " + std::to_string(instr) + " = " + std::to_string(r) +
        (r != 0 ? " errno=" + std::to_string(errno) : ""));
    return r;
  }

  bool once(const std::string& key) { return done_.insert(key).second; }
  const std::string& base() const { return base_; }
  // glibc compares a followed root's device with an unset value under
  // FTS_XDEV (the root was no directory when loaded): no plan does that.
  bool may_follow(const FTSENT* p) const { return p->fts_level != 0 || (options_ & FTS_XDEV) == 0; }

 private:
  void read_all(const Plan& plan) {
    for (int n = 0; n < plan.max_reads; ++n) {
      errno = EDOM;  // fts_read must say how it ended
      FTSENT* p = api_.read(sp_);
      if (p == nullptr) {
        log("end errno=" + std::to_string(errno));
        errno = EDOM;
        p = api_.read(sp_);
        log(std::string("again ") + (p != nullptr ? "entry" : "NULL") + " errno=" + std::to_string(errno));
        return;
      }
      started_ = true;
      log("read " + describe(p, true) + " number=" + std::to_string(p->fts_number));
      if (p->fts_number == 0) p->fts_number = ++counter_;
      if (plan.visit) plan.visit(*this, p);
    }
  }

  // Devices and inodes as first-seen indices: comparable across two builds
  // of a tree, still telling which entries are the same file.
  int id(dev_t dev, ino_t ino) { return ids_.emplace(std::make_pair(dev, ino), int(ids_.size())).first->second; }

  // Roots listed by fts_children before the first fts_read have no path yet
  // (glibc leaves fts_path/fts_pathlen unset then): `loaded` is false.
  std::string describe(const FTSENT* p, bool loaded) {
    std::ostringstream o;
    const int info = p->fts_info;
    o << info_name(info) << " name=" << p->fts_name << " namelen=" << p->fts_namelen << " level=" << p->fts_level
      << " errno=" << p->fts_errno;
    if (loaded) o << " path=" << p->fts_path << " pathlen=" << p->fts_pathlen;
    if (show_acc_) o << " acc=" << p->fts_accpath << (p->fts_accpath == p->fts_path ? "(=path)" : "");
    // glibc leaves fts_statp unset under FTS_NOSTAT, and its buffer unset
    // for FTS_NSOK entries.
    if ((options_ & FTS_NOSTAT) == 0 && info != FTS_NSOK) {
      const struct stat& st = *p->fts_statp;
      o << " st=" << id(st.st_dev, st.st_ino) << " mode=" << std::oct << (st.st_mode & S_IFMT) << std::dec;
    }
    if (is_dir_info(info)) o << " dir=" << id(p->fts_dev, p->fts_ino) << " nlink=" << p->fts_nlink;
    if (info == FTS_DC) o << " cycle=" << p->fts_cycle->fts_level << ":" << p->fts_cycle->fts_name;
    if (p->fts_parent != nullptr) {
      const FTSENT* up = p->fts_parent;
      o << " parent=" << up->fts_level << ":" << up->fts_name << "#" << up->fts_number;
      if (up->fts_level >= 0) o << (p->fts_path == up->fts_path ? " shared" : " own");
    }
    if (p->fts_link != nullptr) o << " next=" << p->fts_link->fts_name;
    return o.str();
  }

  void log(std::string s) { trace_.push_back(std::move(s)); }

  const Api& api_;
  int options_;
  Compar compar_;
  std::string base_;
  bool show_acc_;
  FTS* sp_ = nullptr;
  bool started_ = false;
  long counter_ = 0;
  Trace trace_;
  std::set<std::string> done_;
  std::map<std::pair<dev_t, ino_t>, int> ids_;
};

// ---- comparing ------------------------------------------------------------------

std::string first_difference(const Trace& a, const Trace& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  std::ostringstream o;
  o << "first difference at step " << i << "\n";
  for (size_t k = i >= 3 ? i - 3 : 0; k < i; ++k) o << "  same:  " << a[k] << "\n";
  o << "  glibc: " << (i < a.size() ? a[i] : "<end>") << "\n";
  o << "  ours:  " << (i < b.size() ? b[i] : "<end>") << "\n";
  return o.str();
}

struct Results {
  int compared = 0;
  std::vector<std::string> mismatches;
  std::set<std::string> seen;  // what glibc's walks showed: "read DNR", "errno=13", ...

  void note(const Trace& t) {
    for (const std::string& line : t) {
      if (line.rfind("read ", 0) == 0) seen.insert(line.substr(0, line.find(' ', 5)));
      if (line.rfind("open NULL", 0) == 0) seen.insert("open NULL");
      const size_t e = line.find("errno=");
      if (e != std::string::npos && line.compare(e + 6, 2, "0 ") != 0)
        seen.insert("errno=" + std::to_string(std::atoi(line.c_str() + e + 6)));
    }
  }
};

// Restores the working directory on scope exit.
class CwdGuard {
 public:
  explicit CwdGuard(const std::string& to) : fd_(::open(".", O_RDONLY | O_DIRECTORY)) {
    if (!to.empty()) REQUIRE(::chdir(to.c_str()) == 0);
  }
  ~CwdGuard() {
    if (fd_ >= 0) {
      [[maybe_unused]] int r = ::fchdir(fd_);
      ::close(fd_);
    }
  }
  CwdGuard(const CwdGuard&) = delete;
  CwdGuard& operator=(const CwdGuard&) = delete;

 private:
  int fd_;
};

struct Case {
  std::string tree;  // where plans may change things
  std::vector<std::string> roots;
  std::string cwd;              // for relative roots ("" keeps it)
  std::function<void()> reset;  // rebuilds the tree before each walk
};

std::string options_name(int o) {
  static const std::pair<int, const char*> flags[] = {
      {FTS_COMFOLLOW, "COMFOLLOW"}, {FTS_LOGICAL, "LOGICAL"}, {FTS_NOCHDIR, "NOCHDIR"}, {FTS_NOSTAT, "NOSTAT"},
      {FTS_PHYSICAL, "PHYSICAL"},   {FTS_SEEDOT, "SEEDOT"},   {FTS_XDEV, "XDEV"}};
  std::string s;
  for (const auto& [bit, name] : flags)
    if (o & bit) s += (s.empty() ? "" : "|") + std::string(name);
  return s.empty() ? "0" : s;
}

void compare(Results& r, const Case& c, int options, Compar compar, const char* compar_name, const Plan& plan) {
  const bool show_acc = (options & (FTS_NOCHDIR | FTS_LOGICAL)) != 0;
  Trace theirs, ours;
  {
    CwdGuard cwd(c.cwd);
    if (c.reset) c.reset();
    theirs = Walk(kGlibc, options, compar, c.tree, show_acc).run(c.roots, plan);
  }
  {
    CwdGuard cwd(c.cwd);
    if (c.reset) c.reset();
    ours = Walk(kOurs, options, compar, c.tree, show_acc).run(c.roots, plan);
  }
  r.note(theirs);
  ++r.compared;
  if (theirs == ours) return;
  std::string label = "roots";
  for (const std::string& root : c.roots) label += " " + root;
  label += "\noptions " + options_name(options) + ", compar " + compar_name + ", plan '" + plan.label + "'\n";
  r.mismatches.push_back(label + first_difference(theirs, ours));
}

// Checks the walks agreed, were as many as meant, and met what the tree was
// built to show.
void report(const Results& r, int expected_at_least, std::initializer_list<const char*> must_see) {
  INFO(r.compared << " walks compared, " << r.mismatches.size() << " differ");
  for (size_t i = 0; i < r.mismatches.size() && i < 10; ++i) FAIL_CHECK(r.mismatches[i]);
  CHECK(r.mismatches.empty());
  CHECK(r.compared >= expected_at_least);
  for (const char* what : must_see) {
    INFO("never seen: " << what);
    CHECK(r.seen.count(what) == 1);
  }
}

// ---- options and comparators --------------------------------------------------------

std::vector<int> all_options() {
  const int bases[] = {FTS_PHYSICAL, FTS_LOGICAL, FTS_PHYSICAL | FTS_COMFOLLOW, FTS_LOGICAL | FTS_COMFOLLOW, 0};
  const int mods[] = {FTS_NOCHDIR, FTS_NOSTAT, FTS_SEEDOT, FTS_XDEV};
  std::vector<int> out;
  for (int base : bases)
    for (int m = 0; m < 16; ++m) {
      int o = base;
      for (int k = 0; k < 4; ++k)
        if (m & (1 << k)) o |= mods[k];
      out.push_back(o);
    }
  return out;
}

std::vector<int> some_options() {
  std::vector<int> out;
  for (int base : {FTS_PHYSICAL, FTS_LOGICAL, FTS_PHYSICAL | FTS_COMFOLLOW})
    for (int mod : {0, FTS_NOCHDIR, FTS_NOSTAT, FTS_NOCHDIR | FTS_NOSTAT | FTS_SEEDOT}) out.push_back(base | mod);
  return out;
}

int by_name(const FTSENT** a, const FTSENT** b) { return std::strcmp((*a)->fts_name, (*b)->fts_name); }
int by_name_desc(const FTSENT** a, const FTSENT** b) { return by_name(b, a); }
int all_equal(const FTSENT**, const FTSENT**) { return 0; }
int by_namelen(const FTSENT** a, const FTSENT** b) { return (*a)->fts_namelen - (*b)->fts_namelen; }
int dirs_first(const FTSENT** a, const FTSENT** b) {
  const int da = (*a)->fts_info == FTS_D, db = (*b)->fts_info == FTS_D;
  return da != db ? db - da : by_name(a, b);
}

struct NamedCompar {
  Compar fn;
  const char* name;
};
const NamedCompar kCompars[] = {{nullptr, "none"},        {by_name, "by_name"},       {by_name_desc, "by_name_desc"},
                                {all_equal, "all_equal"}, {by_namelen, "by_namelen"}, {dirs_first, "dirs_first"}};
const NamedCompar kFewCompars[] = {{nullptr, "none"}, {by_name, "by_name"}};

// ---- plans --------------------------------------------------------------------------

std::string key(const FTSENT* p) { return std::string(p->fts_path) + "#" + info_name(p->fts_info); }

void set_on_children(Walk& w) {
  for (FTSENT* c = w.children(0); c != nullptr; c = c->fts_link) {
    if (named(c, {"b", "d", "cyc", "z"})) w.set(c, FTS_SKIP);
    if (named(c, {"link_dir", "link_file", "dangling", "selfloop", "up", "back", "a.txt"})) w.set(c, FTS_FOLLOW);
    if (named(c, {"c.txt", "e.txt", "empty", "fifo"})) w.set(c, FTS_AGAIN);
    if (named(c, {"hard"})) w.set(c, 0);
    if (named(c, {".hidden"})) w.set(c, FTS_NOINSTR);
  }
}

std::vector<Plan> plans() {
  std::vector<Plan> v;
  v.push_back({"plain", nullptr, nullptr});
  v.push_back({"skip some directories", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info == FTS_D && named(p, {"b", "cyc", "d", "z"})) w.set(p, FTS_SKIP);
               }});
  v.push_back({"again", nullptr, [](Walk& w, FTSENT* p) {
                 const bool pick = named(p, {"a.txt", "d", "empty", "link_dir", "dangling", "fifo", "e.txt"}) ||
                                   p->fts_level == 0 || (p->fts_info == FTS_DP && named(p, {"b"}));
                 if (pick && w.once(key(p))) w.set(p, FTS_AGAIN);
               }});
  v.push_back({"follow links", nullptr, [](Walk& w, FTSENT* p) {
                 if ((p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE) && w.may_follow(p) && w.once(key(p)))
                   w.set(p, FTS_FOLLOW);
               }});
  v.push_back({"follow non-links", nullptr, [](Walk& w, FTSENT* p) {
                 if (named(p, {"b", "a.txt", "fifo"}) && w.once(key(p))) w.set(p, FTS_FOLLOW);
               }});
  v.push_back({"children", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info == FTS_D) w.children(0);
               }});
  v.push_back({"children names only", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info == FTS_D) w.children(FTS_NAMEONLY);
               }});
  v.push_back({"children twice", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info != FTS_D) return;
                 w.children(FTS_NAMEONLY);
                 w.children(0);
               }});
  v.push_back({"children everywhere", [](Walk& w) { w.children(0); },
               [](Walk& w, FTSENT* p) {
                 if (p->fts_info != FTS_D) w.children(0);  // not a preorder directory: NULL, errno 0
                 else w.children(p->fts_level % 2 == 0 ? 0 : FTS_NAMEONLY);
               }});
  v.push_back({"fts_set on children", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info == FTS_D) set_on_children(w);
               }});
  v.push_back({"names then children", nullptr, [](Walk& w, FTSENT* p) {
                 // The FTS_NAMEONLY flag outlives its list: glibc rereads the later one.
                 if (p->fts_info == FTS_D && p->fts_level == 0) w.children(FTS_NAMEONLY);
                 if (p->fts_info == FTS_D && named(p, {"b"})) set_on_children(w);
               }});
  v.push_back({"children then again", nullptr, [](Walk& w, FTSENT* p) {
                 if (p->fts_info != FTS_D || !w.once(key(p))) return;
                 w.children(0);
                 w.set(p, FTS_AGAIN);
               }});
  v.push_back({"roots",
               [](Walk& w) {
                 int n = 0;
                 for (FTSENT* c = w.children(0); c != nullptr; c = c->fts_link, ++n) {
                   if (c->fts_info == FTS_SL || c->fts_info == FTS_SLNONE) {
                     if (w.may_follow(c)) w.set(c, FTS_FOLLOW);
                   } else if (n == 1) {
                     w.set(c, FTS_SKIP);
                   } else if (n == 2) {
                     w.set(c, FTS_AGAIN);
                   }
                 }
                 w.children(FTS_NAMEONLY);
               },
               nullptr});
  v.push_back({"close early", nullptr, nullptr, 4});
  v.push_back({"close later", nullptr, nullptr, 11});
  v.push_back({"bad calls", nullptr, [](Walk& w, FTSENT* p) {
                 if (!w.once("bad")) return;
                 w.set(p, 7);
                 w.set(p, -1);
                 w.children(5);
                 w.children(FTS_NAMEONLY | 1);
               }});
  return v;
}

// Plans that change the tree during the walk (races, as far as they can be
// staged): each walk gets a fresh copy.
std::vector<Plan> changing_plans() {
  auto at = [](Walk& w, const char* rel) { return w.base() + "/" + rel; };
  auto when = [](FTSENT* p, int info, const char* name) { return p->fts_info == info && named(p, {name}); };
  std::vector<Plan> v;
  v.push_back({"directory removed before it is read", nullptr, [=](Walk& w, FTSENT* p) {
                 if (when(p, FTS_D, "b") && w.once("x")) fs::remove_all(at(w, "b"));
               }});
  v.push_back({"directory replaced by a file", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_D, "b") || !w.once("x")) return;
                 fs::remove_all(at(w, "b"));
                 write_file(at(w, "b"), "now a file");
               }});
  v.push_back({"directory replaced by another", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_D, "b") || !w.once("x")) return;
                 fs::rename(at(w, "b"), at(w, "b_old"));
                 write_file(at(w, "b/new.txt"), "new");
               }});
  v.push_back({"listed entries removed", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_D, "b") || !w.once("x")) return;
                 w.children(0);
                 fs::remove_all(at(w, "b/d"));
                 fs::remove(at(w, "b/c.txt"));
               }});
  v.push_back({"listed directory replaced", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_D, "b") || !w.once("x")) return;
                 w.children(0);
                 fs::rename(at(w, "b"), at(w, "b_old"));
                 fs::create_directory(at(w, "b"));
               }});
  v.push_back({"listed directory removed", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_D, "b") || !w.once("x")) return;
                 w.children(0);
                 fs::remove_all(at(w, "b"));
               }});
  v.push_back({"file removed, then again", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!named(p, {"a.txt"}) || !w.once("x")) return;
                 fs::remove(at(w, "a.txt"));
                 w.set(p, FTS_AGAIN);
               }});
  v.push_back({"siblings change after the read", nullptr, [=](Walk& w, FTSENT* p) {
                 if (p->fts_level == 0 && p->fts_info == FTS_D && w.once("x")) {
                   w.children(0);
                   fs::remove(at(w, "a.txt"));
                   fs::remove_all(at(w, "empty"));
                   write_file(at(w, "late.txt"), "late");
                 }
                 if (named(p, {"link_file", "empty"}) && w.once(key(p))) w.set(p, FTS_AGAIN);
               }});
  v.push_back({"postorder directory removed, then again", nullptr, [=](Walk& w, FTSENT* p) {
                 if (!when(p, FTS_DP, "b") || !w.once("x")) return;
                 fs::remove_all(at(w, "b"));
                 w.set(p, FTS_AGAIN);
               }});
  return v;
}

// ---- trees --------------------------------------------------------------------------

void symlink_at(const std::string& target, const std::string& at) {
  REQUIRE(::symlink(target.c_str(), at.c_str()) == 0);
}

// Files, nested and empty directories, links to files and directories, a
// dangling link, a link to itself, links making cycles under FTS_LOGICAL, a
// FIFO, a hard link, odd and long names.
void build_standard(const std::string& t) {
  fs::create_directories(t);
  write_file(t + "/a.txt", "hello");
  write_file(t + "/.hidden", "");
  write_file(t + "/b/c.txt", "c");
  write_file(t + "/b/d/e.txt", "e");
  fs::create_directories(t + "/b/empty");
  fs::create_directories(t + "/empty");
  symlink_at("a.txt", t + "/link_file");
  symlink_at("b", t + "/link_dir");
  symlink_at("missing", t + "/dangling");
  symlink_at("selfloop", t + "/selfloop");
  fs::create_directories(t + "/cyc/sub");
  symlink_at("..", t + "/cyc/up");
  symlink_at("../../cyc", t + "/cyc/sub/back");
  write_file(t + "/cyc/sub/f", "f");
  REQUIRE(::mkfifo((t + "/fifo").c_str(), 0644) == 0);
  REQUIRE(::link((t + "/a.txt").c_str(), (t + "/hard").c_str()) == 0);
  for (const char* n : {"k1", "K0", "k10", "k2", "with space", "é"}) write_file(t + "/z/" + n, n);
  write_file(t + "/z/" + std::string(255, 'n'), "long name");
}

std::vector<std::vector<std::string>> standard_roots(const std::string& t) {
  return {{t},
          {t + "/b", t + "/a.txt", t + "/missing", t + "/link_dir", t + "/dangling", t + "/empty", t + "/link_file",
           t + "/selfloop", t + "/fifo", t + "/b"},
          {t + "/", t + "//b/"}};
}

// Runs `body` in a child process, for what the test process must not do to
// itself (drop privileges, enter a mount namespace), and brings its results
// back. `body` returns "" or why it could not run.
Results in_child(const std::function<std::string(Results&)>& body, std::string* skipped) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  auto put = [](int fd, const std::string& s) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    bool ok = ::write(fd, &n, sizeof n) == sizeof n;
    for (size_t done = 0; ok && done < s.size();) {
      const ssize_t w = ::write(fd, s.data() + done, s.size() - done);
      ok = w > 0;
      done += w > 0 ? size_t(w) : 0;
    }
  };
  if (pid == 0) {
    ::close(fds[0]);
    Results r;
    const std::string why = body(r);
    put(fds[1], why);
    put(fds[1], std::to_string(r.compared));
    std::string seen;
    for (const std::string& what : r.seen) seen += what + "\n";
    put(fds[1], seen);
    for (const std::string& m : r.mismatches) put(fds[1], m);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string data;
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) data.append(buf, size_t(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  std::vector<std::string> parts;
  for (size_t pos = 0; pos + sizeof(uint32_t) <= data.size();) {
    uint32_t n;
    std::memcpy(&n, data.data() + pos, sizeof n);
    parts.push_back(data.substr(pos + sizeof n, n));
    pos += sizeof n + n;
  }
  REQUIRE(parts.size() >= 3);
  *skipped = parts[0];
  Results r;
  r.compared = std::stoi(parts[1]);
  std::istringstream seen(parts[2]);
  for (std::string what; std::getline(seen, what);) r.seen.insert(what);
  r.mismatches.assign(parts.begin() + 3, parts.end());
  return r;
}

// Removes a tree too deep for path-based removal.
void remove_at(int dirfd, const char* name) {
  const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) {
    ::unlinkat(dirfd, name, 0);
    return;
  }
  std::vector<std::string> names;
  if (DIR* d = ::fdopendir(::dup(fd))) {
    while (const struct dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  for (const std::string& n : names) remove_at(fd, n.c_str());
  ::close(fd);
  ::unlinkat(dirfd, name, AT_REMOVEDIR);
}

}  // namespace

TEST_CASE("fts: standard tree, every option set, comparator and plan", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  build_standard(t);
  Results r;
  const auto roots = standard_roots(t);
  const auto all = all_options();
  const Plan plain{"plain", nullptr, nullptr};
  for (const auto& rs : roots)
    for (int o : all)
      for (const NamedCompar& c : kCompars) compare(r, {t, rs, "", nullptr}, o, c.fn, c.name, plain);
  for (const Plan& plan : plans())
    for (size_t i = 0; i < roots.size(); ++i)
      for (int o : all)
        for (const NamedCompar& c : kFewCompars)
          if (i == 0 || c.fn != nullptr) compare(r, {t, roots[i], "", nullptr}, o, c.fn, c.name, plan);
  report(r, 5000,
         {"read D", "read DP", "read F", "read SL", "read SLNONE", "read DC", "read DOT", "read DEFAULT", "read NS",
          "read NSOK", "errno=2", "errno=20", "errno=22"});
}

TEST_CASE("fts: the tree changes during the walk", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  const Case c{t, {t}, "", [&] {
                 fs::remove_all(t);
                 build_standard(t);
               }};
  Results r;
  std::vector<int> options = some_options();
  options.push_back(0);
  options.push_back(FTS_LOGICAL | FTS_COMFOLLOW | FTS_NOSTAT);
  options.push_back(FTS_PHYSICAL | FTS_NOSTAT | FTS_XDEV);
  for (const Plan& plan : changing_plans())
    for (int o : options)
      for (const NamedCompar& cmp : kFewCompars) compare(r, c, o, cmp.fn, cmp.name, plan);
  report(r, 200, {"read DNR", "read ERR", "read NS", "errno=2", "errno=20"});
}

TEST_CASE("fts: relative roots", "[walk_fts]") {
  TempDir tmp;
  // Two levels down: the walk of ".." with FTS_SEEDOT reads "../..", which
  // must be ours too (the nlink of /tmp changes with whatever else runs).
  const std::string t = tmp / "o/t";
  build_standard(t);
  Results r;
  const std::vector<std::vector<std::string>> roots = {
      {"."}, {"b", "b/", "./b/d", "link_dir", "a.txt", "z//", "..", "./missing"}};
  for (const Plan& plan : plans())
    for (const auto& rs : roots)
      for (int o : all_options()) compare(r, {t, rs, t, nullptr}, o, by_name, "by_name", plan);
  report(r, 1000, {"read D", "read DC", "read SL", "read NS", "read DOT"});
}

TEST_CASE("fts: many entries, sorted with ties", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  for (int i = 0; i < 300; ++i) write_file(t + "/w/" + std::to_string(i * 7919 % 1000), "x");
  for (int i = 0; i < 60; ++i) fs::create_directories(t + "/w/dir" + std::to_string(i * 31 % 97));
  Results r;
  const Plan plain{"plain", nullptr, nullptr};
  const Plan kids{"children", nullptr, [](Walk& w, FTSENT* p) {
                    if (p->fts_info == FTS_D) w.children(0);
                  }};
  for (int o : some_options())
    for (const NamedCompar& c : kCompars)
      for (const Plan* plan : {&plain, &kids}) compare(r, {t, {t}, "", nullptr}, o, c.fn, c.name, *plan);
  report(r, 100, {"read F", "read D", "read NSOK"});
}

TEST_CASE("fts: fts_open's own errors and unusual roots", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  build_standard(t);
  const std::string beyond_path_max = t + std::string(3000, '/') + "/b/" + std::string(2000, '/') + "c.txt";
  const std::vector<std::vector<std::string>> roots = {
      {t, ""},                                  // an empty root: ENOENT
      {t + "/a.txt", std::string(70000, 'x')},  // cannot fit fts_pathlen: ENAMETOOLONG
      {beyond_path_max, t + "/b"},              // stat fails: FTS_NS, ENAMETOOLONG
      {t + "/b/c.txt/", t + "/a.txt/x", "/"},   // ENOTDIR; "/" only opened, not walked
      {t + "/.", t + "/b/..", t + "/cyc/up", t + "/cyc/up/"}};
  const Plan first_only{"first entries", nullptr, nullptr, 3};
  const Plan plain{"plain", nullptr, nullptr};
  Results r;
  for (size_t i = 0; i < roots.size(); ++i)
    for (int o : all_options())
      for (const NamedCompar& c : kFewCompars)
        compare(r, {t, roots[i], "", nullptr}, o, c.fn, c.name, i == 3 ? first_only : plain);
  for (int bad : {0x100, 0x200, 0x1000, -1})
    for (const Api* api : {&kGlibc, &kOurs}) {
      char* argv[] = {const_cast<char*>(t.c_str()), nullptr};
      errno = 0;
      CHECK(api->open(argv, FTS_PHYSICAL | bad, nullptr) == nullptr);
      CHECK(errno == EINVAL);
    }
  report(r, 400, {"open NULL", "read NS", "errno=2", "errno=20", "errno=36"});
}

TEST_CASE("fts: a link to another device (FTS_XDEV, FTS_LOGICAL)", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  char shm[] = "/dev/shm/fractfs-unit-XXXXXX";
  struct stat a, b;
  if (::stat("/dev/shm", &b) != 0 || ::stat(tmp.path().c_str(), &a) != 0 || a.st_dev == b.st_dev ||
      ::mkdtemp(shm) == nullptr) {
    WARN("no /dev/shm on another device: skipped");
    return;
  }
  write_file(std::string(shm) + "/sub/f", "f");
  write_file(t + "/a", "a");
  symlink_at(shm, t + "/other");
  Results r;
  for (const Plan& plan : plans())
    for (int o : all_options()) compare(r, {t, {t}, "", nullptr}, o, nullptr, "none", plan);
  fs::remove_all(shm);
  report(r, 1000, {"read D", "read DP", "read SL"});
}

TEST_CASE("fts: paths longer than PATH_MAX", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  fs::create_directories(t);
  // 24 levels of 200-character names, made relative to descriptors.
  int fd = ::open(t.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  for (int level = 0; level < 24; ++level) {
    const std::string name = std::to_string(level) + std::string(200, 'd');
    REQUIRE(::mkdirat(fd, name.c_str(), 0755) == 0);
    const int file = ::openat(fd, ("f" + std::to_string(level)).c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(file >= 0);
    ::close(file);
    const int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(next >= 0);
    ::close(fd);
    fd = next;
  }
  ::close(fd);
  Results r;
  // Where glibc does not chdir it meets the same limit as we do; where it
  // does, it goes deeper: there we must give what glibc gives with
  // FTS_NOCHDIR (fts_options and fts_children's fts_path aside).
  for (const Plan& plan : plans())
    for (int o : all_options()) {
      if (plan.label != "plain" && plan.label != "children" && plan.label != "fts_set on children" &&
          plan.label != "again")
        continue;
      if (o & (FTS_NOCHDIR | FTS_LOGICAL)) {
        compare(r, {t, {t}, "", nullptr}, o, by_name, "by_name", plan);
        continue;
      }
      if (plan.label.find("children") != std::string::npos || plan.label == "roots") continue;
      auto strip = [](Trace tr) {
        for (std::string& line : tr)
          if (line.rfind("open options=", 0) == 0 || line.rfind("options=", 0) == 0) line = "options";
        return tr;
      };
      const Trace theirs = strip(Walk(kGlibc, o | FTS_NOCHDIR, by_name, t, false).run({t}, plan));
      const Trace ours = strip(Walk(kOurs, o, by_name, t, false).run({t}, plan));
      r.note(theirs);
      ++r.compared;
      if (theirs != ours)
        r.mismatches.push_back("long paths, options " + options_name(o) + ", plan " + plan.label + "\n" +
                               first_difference(theirs, ours));
    }
  const int dir = ::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY);
  remove_at(dir, "t");
  ::close(dir);
  report(r, 250, {"read NS", "read NSOK", "errno=36"});
}

TEST_CASE("fts: unreadable and unsearchable directories, unprivileged", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  build_standard(t);
  write_file(t + "/noperm/inner", "x");
  write_file(t + "/readonly/f1", "1");
  write_file(t + "/readonly/sub/f2", "2");
  write_file(t + "/searchonly/f", "f");
  write_file(t + "/deep/noperm2/x", "x");
  symlink_at("noperm/inner", t + "/link_noperm");
  symlink_at("readonly/f1", t + "/link_readonly");
  REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);
  REQUIRE(::chmod((t + "/noperm").c_str(), 0) == 0);
  REQUIRE(::chmod((t + "/deep/noperm2").c_str(), 0) == 0);
  REQUIRE(::chmod((t + "/readonly").c_str(), 0444) == 0);
  REQUIRE(::chmod((t + "/searchonly").c_str(), 0111) == 0);
  std::string skipped;
  const Results r = in_child(
      [&](Results& res) -> std::string {
        // Root ignores permissions: become nobody.
        if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
          return "cannot drop privileges";
        if (::access((t + "/noperm/inner").c_str(), F_OK) == 0) return "permissions are not enforced";
        const std::vector<std::vector<std::string>> roots = {{t},
                                                             {t + "/noperm/inner", t + "/readonly", t + "/searchonly/f",
                                                              t + "/link_noperm", t + "/searchonly", t + "/noperm"}};
        for (const Plan& plan : plans())
          for (const auto& rs : roots)
            for (int o : all_options()) compare(res, {t, rs, "", nullptr}, o, by_name, "by_name", plan);
        return "";
      },
      &skipped);
  for (const char* d : {"/noperm", "/deep/noperm2", "/readonly", "/searchonly"}) ::chmod((t + d).c_str(), 0755);
  if (!skipped.empty()) {
    WARN("skipped: " << skipped);
    return;
  }
  report(r, 1000, {"read DNR", "read NS", "read SLNONE", "errno=13"});
}

TEST_CASE("fts: mount points (FTS_XDEV) and bind-mount cycles", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  build_standard(t);
  fs::create_directories(t + "/mnt");
  fs::create_directories(t + "/b/loop");
  std::string skipped;
  const Results r = in_child(
      [&](Results& res) -> std::string {
        if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare: ") + std::strerror(errno);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return "cannot make mounts private";
        if (::mount("tmpfs", (t + "/mnt").c_str(), "tmpfs", 0, "size=1m") != 0) return "cannot mount tmpfs";
        write_file(t + "/mnt/x", "x");
        write_file(t + "/mnt/sub/y", "y");
        // t itself again below t: a cycle even to a physical walk.
        if (::mount(t.c_str(), (t + "/b/loop").c_str(), nullptr, MS_BIND, nullptr) != 0) return "cannot bind-mount";
        for (const Plan& plan : plans())
          for (int o : all_options())
            compare(res, {t, {t, t + "/mnt", t + "/b/loop"}, "", nullptr}, o, by_name, "by_name", plan);
        return "";
      },
      &skipped);
  if (!skipped.empty()) {
    WARN("skipped: " << skipped);
    return;
  }
  report(r, 1000, {"read DC", "read D", "read DP"});
}

TEST_CASE("fts: FTS_XDEV keeps to the device of a root symlink followed later", "[walk_fts]") {
  TempDir tmp;
  const std::string t = tmp / "t";
  build_standard(t);
  const std::string root = t + "/link_dir";
  char* argv[] = {const_cast<char*>(root.c_str()), nullptr};
  FTS* sp = fractfs::walk::fts_open(argv, FTS_PHYSICAL | FTS_XDEV, nullptr);
  REQUIRE(sp != nullptr);
  FTSENT* p = fractfs::walk::fts_read(sp);
  REQUIRE(p != nullptr);
  CHECK(p->fts_info == FTS_SL);
  CHECK(fractfs::walk::fts_set(sp, p, FTS_FOLLOW) == 0);
  p = fractfs::walk::fts_read(sp);
  REQUIRE(p != nullptr);
  CHECK(p->fts_info == FTS_D);
  p = fractfs::walk::fts_read(sp);
  REQUIRE(p != nullptr);
  CHECK(p->fts_level == 1);  // descended: b is on the link's device
  CHECK(fractfs::walk::fts_close(sp) == 0);
}
