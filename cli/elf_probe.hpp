// What kind of program a command is, as far as LD_PRELOAD is concerned.
#pragma once

#include <string>

namespace fractfs::cli {

enum class ProgramKind {
  dynamic,  // a dynamically linked ELF program: the shim sees its calls
  static_,  // statically linked: no dynamic loader, so no LD_PRELOAD
  go,       // a Go program: makes its file system calls without libc
  script,   // "#!" script: what counts is its interpreter
  unknown,  // not found, unreadable, or not ELF
};

// Looks `command` up in PATH as execvp would, and inspects the file.
ProgramKind probe_program(const std::string& command, std::string* resolved = nullptr);

}  // namespace fractfs::cli
