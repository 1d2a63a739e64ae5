// A small command-line parser shared by `fractfs` and `fractfs-run`.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fractfs::cli {

struct Option {
  std::string_view long_name;  // "root" for --root
  char short_name = 0;         // 'v' for -v, 0 for none
  bool takes_value = false;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  std::map<std::string, std::string, std::less<>> values;  // options given, by long name
  std::vector<std::string> positional;

  bool has(std::string_view name) const { return values.count(name) != 0; }
  std::string get(std::string_view name, std::string fallback = {}) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

// Parses argv[first..argc). "--" ends option parsing; with `stop_at_positional`
// the first non-option argument also does (fractfs-run's COMMAND). Throws
// UsageError naming the offending argument.
Args parse_args(int argc, char** argv, int first, const std::vector<Option>& options, bool stop_at_positional = false);

// Exit statuses shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 2;
inline constexpr int kExitUsage = 64;

}  // namespace fractfs::cli
