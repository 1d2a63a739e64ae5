#include "shim/real.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstring>

namespace fractfs::shim::real {

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define FN(name) decltype(&::name) name = nullptr;
#define FNV(name, version) FN(name)
#define FNH(name) FN(name)
#include "shim/functions.def"
#undef FN
#undef FNV
#undef FNH

void* lookup(const char* name, const char* version) noexcept {
  void* f = version ? ::dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (!f) f = ::dlsym(RTLD_NEXT, name);
  if (!f) {
    // Nothing sensible to pass through to: say which symbol and stop.
    static const char kMsg[] = "fractfs: libc has no symbol ";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    (void)!::write(2, name, std::strlen(name));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  return f;
}

}  // namespace fractfs::shim::real
