// Calls made as the app makes them: through the library's own interposers.
//
// libfractfs.so is linked with --wrap=NAME for every entry of
// shim/functions.def (Makefile: SHIM_WRAP). A plain call such as ::open in
// fractfs's own code (journal, control socket, helper start, config, libstdc++)
// therefore binds to __wrap_open, which is libc's open (shim/own_calls.cpp):
// the library's I/O never enters its interposers, on any thread, with no
// flag to set. Code that means the app's view of the tree (the fts/nftw
// walkers, raw syscall(), glob's directory hooks) calls APP(name) instead:
// for a wrapped symbol the linker's __real_NAME is the definition the link
// holds, which is the interposer. Programs that link the walkers without
// the shim (unit tests) prelink them with the same flags, so APP() is libc.
#pragma once

#define LIKE_LIBC_PREFIX __real_
#include "shim/like_libc.inc"

#define APP(name) __real_##name
