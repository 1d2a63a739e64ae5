#include "cli/elf_probe.hpp"

#include <elf.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

namespace fractfs::cli {
namespace {

std::string find_in_path(const std::string& cmd) {
  if (cmd.find('/') != std::string::npos) return cmd;
  const char* path = ::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + cmd;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

template <typename T>
bool read_at(std::ifstream& in, std::uint64_t off, T& out) {
  in.seekg(static_cast<std::streamoff>(off));
  return static_cast<bool>(in.read(reinterpret_cast<char*>(&out), sizeof out));
}

// 64-bit ELF only (this build runs on x86_64 and arm64).
ProgramKind probe_elf(std::ifstream& in) {
  Elf64_Ehdr eh;
  if (!read_at(in, 0, eh) || eh.e_ident[EI_CLASS] != ELFCLASS64) return ProgramKind::unknown;
  bool has_interp = false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read_at(in, eh.e_phoff + static_cast<std::uint64_t>(i) * eh.e_phentsize, ph)) break;
    has_interp |= ph.p_type == PT_INTERP;
  }
  // Go marks its binaries with a ".note.go.buildid" / ".go.buildinfo" section.
  Elf64_Shdr strtab;
  if (eh.e_shstrndx != SHN_UNDEF &&
      read_at(in, eh.e_shoff + static_cast<std::uint64_t>(eh.e_shstrndx) * eh.e_shentsize, strtab)) {
    std::vector<char> names(strtab.sh_size);
    in.seekg(static_cast<std::streamoff>(strtab.sh_offset));
    if (in.read(names.data(), static_cast<std::streamsize>(names.size()))) {
      for (int i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        if (!read_at(in, eh.e_shoff + static_cast<std::uint64_t>(i) * eh.e_shentsize, sh)) break;
        if (sh.sh_name >= names.size()) continue;
        const char* name = names.data() + sh.sh_name;
        if (!std::strcmp(name, ".go.buildinfo") || !std::strcmp(name, ".note.go.buildid")) return ProgramKind::go;
      }
    }
  }
  return has_interp ? ProgramKind::dynamic : ProgramKind::static_;
}

}  // namespace

ProgramKind probe_program(const std::string& command, std::string* resolved) {
  std::string file = find_in_path(command);
  if (resolved) *resolved = file;
  if (file.empty()) return ProgramKind::unknown;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  if (!in.read(magic, sizeof magic)) return ProgramKind::unknown;
  if (magic[0] == '#' && magic[1] == '!') return ProgramKind::script;
  if (std::memcmp(magic, ELFMAG, SELFMAG) != 0) return ProgramKind::unknown;
  return probe_elf(in);
}

}  // namespace fractfs::cli
