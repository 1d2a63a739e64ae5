// Access to FRACTFS_* variables in either spelling (FRACTFS_X or fractfs_x).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fractfs {

struct EnvValue {
  std::string name;  // the variable that supplied it, e.g. "FRACTFS_SCRATCH"
  std::string value;
};

class Env {
 public:
  explicit Env(char** env);

  // FRACTFS_<NAME> if set and non-empty, else fractfs_<name>. `name` is the
  // suffix in upper case, e.g. "REMOTE_ROOT". A warning is queued when both
  // spellings are set to different values.
  std::optional<EnvValue> get(std::string_view name);

  // Every FRACTFS_* / fractfs_* variable whose suffix is not in `known`.
  std::vector<std::string> unknown(const std::vector<std::string_view>& known) const;

  std::vector<std::string> warnings;

 private:
  std::vector<std::string_view> vars_;
};

// The variable suffixes fractfs reads (configuration and run-time).
const std::vector<std::string_view>& known_env_suffixes();

}  // namespace fractfs
