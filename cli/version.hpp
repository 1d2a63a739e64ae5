// The version every fractfs program reports with --version.
#pragma once

namespace fractfs::cli {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace fractfs::cli
