#include "cli/args.hpp"

namespace fractfs::cli {
namespace {

const Option* find_long(const std::vector<Option>& opts, std::string_view name) {
  for (const Option& o : opts)
    if (o.long_name == name) return &o;
  return nullptr;
}

const Option* find_short(const std::vector<Option>& opts, char c) {
  for (const Option& o : opts)
    if (o.short_name == c) return &o;
  return nullptr;
}

}  // namespace

Args parse_args(int argc, char** argv, int first, const std::vector<Option>& options, bool stop_at_positional) {
  Args out;
  int i = first;
  auto value_for = [&](std::string_view shown) -> std::string {
    if (i + 1 >= argc) throw UsageError("option " + std::string(shown) + " needs a value");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.starts_with("--")) {
      std::string_view name = a.substr(2), value;
      bool inline_value = false;
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        value = name.substr(eq + 1), name = name.substr(0, eq), inline_value = true;
      }
      const Option* o = find_long(options, name);
      if (!o) throw UsageError("unknown option --" + std::string(name));
      if (!o->takes_value && inline_value) throw UsageError("option --" + std::string(name) + " takes no value");
      out.values[std::string(o->long_name)] = o->takes_value ? (inline_value ? std::string(value) : value_for(a)) : "1";
    } else if (a.size() > 1 && a[0] == '-') {
      for (std::size_t k = 1; k < a.size(); ++k) {
        const Option* o = find_short(options, a[k]);
        if (!o) throw UsageError("unknown option -" + std::string(1, a[k]));
        if (o->takes_value) {
          out.values[std::string(o->long_name)] = k + 1 < a.size() ? std::string(a.substr(k + 1)) : value_for(a);
          break;
        }
        out.values[std::string(o->long_name)] = "1";
      }
    } else {
      if (stop_at_positional) break;
      out.positional.emplace_back(a);
    }
  }
  for (; i < argc; ++i) out.positional.emplace_back(argv[i]);
  return out;
}

}  // namespace fractfs::cli
