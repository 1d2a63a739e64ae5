// Differential test of the pattern engine against git itself.
//
// Builds a scratch repository holding a random tree of real files and
// directories, then for many random pattern sets writes the patterns to
// .git/info/exclude and asks `git check-ignore --no-index -v -n -z --stdin`
// about every path. Our PatternList must pick the same deciding line (or
// none) for every path. Exit status 0 only with zero mismatches.
//
//   git_differential [--sets N] [--seed S] [--keep]
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "resolver/pattern_list.hpp"

namespace {

using Rng = std::mt19937_64;

// Component names: plain, dotted, and ones full of glob-special characters.
// None starts with ":", which git would read as pathspec magic.
const std::vector<std::string> kNames = {
    "a",  "b",   "ab",  "abc", "foo", "bar", "x.tmp", "y.log", "z.tar.gz", "A",    ".d",    "_c",    "a b",   "[x]",
    "*",  "?",   "\\q", "!n",  "#h",  "a-b", "ba",    "foo1",  "Foo",      "data", "blobs", "cache", "a.b.c", "x",
    "xx", "a*b", "x:]", "a]",  "x:y", "[]",  "a\tb",  "-",     "c-e",      "^x",   "a\\",   "[",     "]",
};

struct Tree {
  std::vector<std::string> files, dirs;
};

int pick(Rng& rng, int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); }

Tree make_tree(Rng& rng, const std::string& root) {
  Tree t;
  std::set<std::string> seen{""};
  std::vector<std::string> dirs{""};
  for (int i = 0; i < 160; ++i) {
    const std::string& parent = dirs[pick(rng, static_cast<int>(dirs.size()))];
    if (std::count(parent.begin(), parent.end(), '/') >= 4) continue;
    std::string p = (parent.empty() ? "" : parent + "/") + kNames[pick(rng, static_cast<int>(kNames.size()))];
    if (!seen.insert(p).second) continue;
    std::string abs = root + "/" + p;
    if (pick(rng, 3) == 0) {
      if (::mkdir(abs.c_str(), 0755) == 0) dirs.push_back(p), t.dirs.push_back(p);
    } else {
      int fd = ::open(abs.c_str(), O_CREAT | O_WRONLY, 0644);
      if (fd >= 0) ::close(fd), t.files.push_back(p);
    }
  }
  return t;
}

// Short strings over an alphabet dense in wildcard syntax, to reach the odd
// corners: unterminated brackets, malformed [:class:], trailing backslashes.
std::string fuzz_component(Rng& rng) {
  static const std::string kAlphabet = "ab*?[]!^-:\\.x";
  std::string s;
  for (int n = 1 + pick(rng, 6); n > 0; --n) s += kAlphabet[pick(rng, static_cast<int>(kAlphabet.size()))];
  return s;
}

std::string random_component(Rng& rng, const Tree& tree) {
  static const std::vector<std::string> kForms = {
      "*",
      "**",
      "?",
      "*.tmp",
      "*.log",
      "[a-c]*",
      "[!a]",
      "\\*",
      "a*",
      "[[:alpha:]]*",
      "*b",
      "a**b",
      "**a",
      "[]a]",
      "[a-]*",
      "[z-a]",
      "[^a]*",
      "[[:foo:]]",
      "[[:alpha:]",
      "[\\]]*",
      "a\\",
      "[[:]]*",
      "[a/b]",
      "a**",
      "?**",
      "[[::]]*",
      "a[[:space:]]b",
      "a?b",
      "a?*",
      "[a-c]?[a-c]",
      "**\\",
      "x?y",
      "[a-c-e]*",
      "[--0]*",
      "[![:foo:]]*",
      "[[:]:]]*",
      "[:]]*",
      "[!]]*",
      "[[:punct:]]",
      "[[:space:]]*",
      "[[:digit:]]*",
      "[[:upper:]]*",
      "?*?",
  };
  int k = pick(rng, 20);
  if (k < 8) return kForms[pick(rng, static_cast<int>(kForms.size()))];
  if (k < 10) return fuzz_component(rng);
  // A literal name taken from the tree, so patterns hit real paths.
  const auto& pool = pick(rng, 2) && !tree.dirs.empty() ? tree.dirs : tree.files;
  if (pool.empty()) return "a";
  std::string p = pool[pick(rng, static_cast<int>(pool.size()))];
  auto slash = p.rfind('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  std::string esc;
  for (char c : name) {
    if ((c == '*' || c == '?' || c == '[' || c == '\\') && pick(rng, 2)) esc += '\\';
    esc += c;
  }
  return esc;
}

std::string random_pattern(Rng& rng, const Tree& tree) {
  switch (pick(rng, 20)) {
    case 0: return "# a comment";
    case 1: return "";
    case 2: return "\\#h";
    case 3: return "\\!n";
    default: break;
  }
  std::string p;
  if (pick(rng, 4) == 0) p += '!';
  if (pick(rng, 4) == 0) p += '/';
  int n = 1 + pick(rng, 3);
  for (int i = 0; i < n; ++i) {
    if (i) p += '/';
    p += random_component(rng, tree);
  }
  if (pick(rng, 4) == 0) p += '/';
  static const char* kTails[] = {"  ", "\\ ", " \\", "\\", "\t"};
  if (pick(rng, 8) == 0) p += kTails[pick(rng, 5)];
  return p;
}

// Runs git check-ignore; returns the deciding line per path (0: none).
std::map<std::string, int> ask_git(const std::string& repo, const std::vector<std::string>& paths) {
  std::string in_file = repo + "/../query", out_file = repo + "/../answer";
  {
    std::ofstream q(in_file, std::ios::binary);
    for (const auto& p : paths) q << p << '\0';
  }
  std::string cmd =
      "cd '" + repo + "' && git check-ignore --no-index -v -n -z --stdin < '" + in_file + "' > '" + out_file + "'";
  int rc = std::system(cmd.c_str());
  if (rc == -1 || (WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 1)) {
    std::fprintf(stderr, "git check-ignore failed (status %d)\n", rc);
    std::exit(2);
  }
  std::ifstream a(out_file, std::ios::binary);
  std::vector<std::string> fields;
  for (std::string f; std::getline(a, f, '\0');) fields.push_back(f);
  std::map<std::string, int> out;
  for (std::size_t i = 0; i + 3 < fields.size(); i += 4)
    out[fields[i + 3]] = fields[i + 1].empty() ? 0 : std::atoi(fields[i + 1].c_str());
  return out;
}

int our_line(const fractfs::PatternList& list, const std::string& path, bool is_dir) {
  auto m = list.match(path, is_dir);
  return m ? std::atoi(list.origins()[static_cast<std::size_t>(m.index)].c_str()) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  int sets = 400;
  unsigned long seed = std::random_device{}();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sets" && i + 1 < argc) sets = std::atoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--keep") keep = true;
    else return std::fprintf(stderr, "usage: git_differential [--sets N] [--seed S] [--keep]\n"), 64;
  }
  char tmpl[] = "/tmp/fractfs-gitdiff-XXXXXX";
  std::string top = ::mkdtemp(tmpl);
  std::string repo = top + "/repo";
  ::setenv("HOME", top.c_str(), 1);
  ::setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  ::setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  if (std::system(("git init -q '" + repo + "'").c_str()) != 0) return std::fprintf(stderr, "git init failed\n"), 2;

  Rng rng(seed);
  Tree tree = make_tree(rng, repo);
  std::vector<std::string> paths = tree.files;
  paths.insert(paths.end(), tree.dirs.begin(), tree.dirs.end());
  std::set<std::string> dirset(tree.dirs.begin(), tree.dirs.end());

  long cases = 0, mismatches = 0;
  for (int s = 0; s < sets; ++s) {
    std::vector<std::string> lines(1 + static_cast<std::size_t>(pick(rng, 8)));
    for (auto& l : lines) l = random_pattern(rng, tree);
    fractfs::PatternList list;
    {
      std::ofstream ex(repo + "/.git/info/exclude", std::ios::binary);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        ex << lines[i] << '\n';
        list.add(lines[i], std::to_string(i + 1));
      }
    }
    auto git = ask_git(repo, paths);
    for (const auto& p : paths) {
      ++cases;
      int ours = our_line(list, p, dirset.count(p) != 0);
      int theirs = git.count(p) ? git[p] : -1;
      if (ours == theirs) continue;
      if (++mismatches <= 20) {
        std::fprintf(stderr, "MISMATCH seed=%lu set=%d path='%s'%s git=%d ours=%d patterns:\n", seed, s, p.c_str(),
                     dirset.count(p) ? " (dir)" : "", theirs, ours);
        for (std::size_t i = 0; i < lines.size(); ++i) std::fprintf(stderr, "  %zu: '%s'\n", i + 1, lines[i].c_str());
      }
    }
  }
  std::printf("git differential: %ld cases (%d pattern sets x %zu paths), %ld mismatches, seed %lu\n", cases, sets,
              paths.size(), mismatches, seed);
  if (!keep) std::system(("rm -rf '" + top + "'").c_str());
  return mismatches == 0 ? 0 : 1;
}
