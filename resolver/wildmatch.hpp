// Shell-style matching with git's wildmatch semantics: '?', '*', '**',
// bracket classes with ranges, '!'/'^' negation and [:class:] names, and
// backslash escapes. With `pathname` set, '*' and '?' never match '/', and
// '**' between slashes (or at either end) matches any number of directories.
#pragma once

#include <string_view>

namespace fractfs {

bool wildmatch(std::string_view pattern, std::string_view text, bool pathname) noexcept;

// True if `c` is one of git's glob-special characters: * ? [ backslash.
constexpr bool is_glob_special(char c) noexcept { return c == '*' || c == '?' || c == '[' || c == '\\'; }

}  // namespace fractfs
