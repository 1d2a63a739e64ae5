// The one translation unit that compiles toml++'s implementation; everything
// else includes the headers only (TOML_HEADER_ONLY=0 in the Makefile).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
