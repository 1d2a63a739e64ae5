# Helpers shared by the install tests. Source it instead of ../lib.sh.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The commands `fractfs --help` lists.
fractfs_commands() {
  "$BIN/fractfs" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort
}
# The options a --help shows: the leading option words of lines "  -…".
help_options() {  # PROGRAM [COMMAND]
  "$@" --help | awk '/^ +-/ {
      for (i = 1; i <= NF; i++) {
        w = $i; sub(/,$/, "", w)
        if (w ~ /^--?[a-zA-Z][a-z-]*$/) print w
        else if (w !~ /^[A-Z]+$/) break
      }
    }' | sort -u
}
# same_set WHAT EXPECTED ACTUAL: two newline-separated sets are equal.
same_set() {
  [[ $2 == "$3" ]] || fail "$1: expected [$(echo $2)], got [$(echo $3)]"
}
# The fractfs variables the sources know (resolver/config_env.cpp's list),
# without the FRACTFS_ prefix.
known_variables() {
  sed -n '/kKnown = {/,/};/p' "$REPO/resolver/config_env.cpp" | grep -o '"[A-Z_]*"' | tr -d '"'
}
# make in the repository, for this build, with no jobserver of the caller.
mk() { MAKEFLAGS= make -C "$REPO" -s --no-print-directory BUILD="$BUILD" "$@"; }
# A system tool without the ASan runtime that lib.sh preloads under
# SAN=address: some (troff, procps) fail or hang under it.
plain() { env -u LD_PRELOAD "$@"; }
