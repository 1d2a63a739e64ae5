#!/usr/bin/env bash
# The man pages: groff finds nothing to warn about, and they cannot drift
# from the programs. For `fractfs` and each command, and for `fractfs-run`:
# the options in --help, the options in the man page, and the short options
# the parser accepts are the same sets; every documented option is accepted.
# The commands, the configuration keys, the FRACTFS_* variables (read from
# the sources' own lists) and the exit statuses are all documented.
source "$(dirname "$0")/lib.sh"
MAN=$OUT/man
SRC=$REPO/man

for page in fractfs.1 fractfs-run.1 fractfs.toml.5; do
  [[ -s $MAN/$page ]] || fail "$MAN/$page was not built"
  # man --warnings runs groff -ww: every warning, as a CI reader would see it.
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 plain man --warnings -E UTF-8 -l "$MAN/$page" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "$page: man --warnings: $warnings"
  text=$(LC_ALL=C.UTF-8 MANWIDTH=80 plain man -E UTF-8 -l "$MAN/$page" 2>/dev/null)
  [[ $text == *NAME* && $text == *DESCRIPTION* ]] || fail "$page renders without its sections"
done

# Options in a man page section: lines starting with "*-" after the
# heading, up to the next heading.
man_options() {  # FILE HEADING
  awk -v want="$2" '
    /^#+ / { inside = ($0 == want); next }
    inside && /^\*-/ {
      line = $0
      while (match(line, /\*--?[a-zA-Z][a-z-]*\*/)) {
        print substr(line, RSTART + 1, RLENGTH - 2); line = substr(line, RSTART + RLENGTH)
      }
    }' "$1" | sort -u
}
# The options --help shows with a value (followed by an upper-case word).
help_value_options() {
  "$@" --help | awk '/^ +-/ { for (i = 1; i < NF; i++) if ($i ~ /^--/ && $(i + 1) ~ /^[A-Z]+$/) print $i }'
}
# Short options the parser accepts: each letter, followed by --help.
accepted_shorts() {
  local c
  for c in {a..z} {A..Z}; do
    if out=$("$@" "-$c" --help 2>/dev/null) && [[ $out == usage:* ]]; then printf -- '-%s\n' "$c"; fi
  done | sort -u
}
common=$(man_options "$SRC/fractfs.1.scd" "# COMMON OPTIONS")
same_set "fractfs(1) common options" "$(printf '%s\n' --help --root -h | sort)" "$common"
commands=$(fractfs_commands)
[[ -n $commands ]] || fail "no commands in 'fractfs --help'"
documented=$(awk '/^# COMMANDS/ { on = 1 } /^# / && !/COMMANDS/ { on = 0 } on && /^## / { print $2 }' \
  "$SRC/fractfs.1.scd" | sort)
same_set "commands in 'fractfs --help' and fractfs(1)" "$commands" "$documented"

check_program() {  # WHAT MAN-OPTIONS PROGRAM...
  local what=$1 in_man=$2; shift 2
  local in_help opt
  in_help=$( (help_options "$@"; printf '%s\n' -h --help) | sort -u)
  same_set "$what: options of --help and of the man page" "$in_help" "$in_man"
  same_set "$what: short options of the man page and of the parser" \
    "$(grep -E '^-[a-zA-Z]$' <<<"$in_man" || true)" "$(accepted_shorts "$@")"
  for opt in $in_man; do
    [[ $opt == -? ]] && continue
    if grep -qx -- "$opt" <(help_value_options "$@"); then opt="$opt=x"; fi
    out=$("$@" "$opt" --help 2>&1) && [[ $out == usage:* ]] || fail "$what: the parser refuses $opt: $out"
  done
}
for cmd in $commands; do
  check_program "fractfs $cmd" "$( (man_options "$SRC/fractfs.1.scd" "## $cmd"; echo "$common") | sort -u)" \
    "$BIN/fractfs" "$cmd"
done
check_program fractfs-run "$(man_options "$SRC/fractfs-run.1.scd" "# OPTIONS")" "$BIN/fractfs-run"

# Configuration keys (the parser's list) are each defined in fractfs.toml(5).
keys=$(sed -n '/kScalarKeys = {/,/};/p' "$REPO/resolver/config_internal.hpp" | grep -o '"[a-z_]*"' | tr -d '"')
[[ $(wc -w <<<"$keys") -ge 8 ]] || fail "could not read the keys from resolver/config_internal.hpp"
for key in $keys; do
  [[ $key == volume_root ]] && { grep -q '\*volume_root\*' "$SRC/fractfs.toml.5.scd" || fail "volume_root undocumented"; continue; }
  grep -q "^\*$key\* = " "$SRC/fractfs.toml.5.scd" || fail "key '$key' is not defined in fractfs.toml(5)"
done
for table in dirs ignore local; do
  grep -q "^\*\[$table\]\* " "$SRC/fractfs.toml.5.scd" || fail "[$table] is not defined in fractfs.toml(5)"
done
# Variables: the known list, and every FRACTFS_* the sources getenv(), bar
# the internal ones, each with an entry in fractfs.toml(5)'s ENVIRONMENT.
vars=$( (known_variables | sed 's/^/FRACTFS_/'
         grep -rhoE 'getenv\("FRACTFS_[A-Z_]+"\)' "$REPO"/{cli,resolver,shim,sync} | grep -o 'FRACTFS_[A-Z_]*') |
       grep -v '^FRACTFS_INTERNAL_' | sort -u)
[[ $(wc -w <<<"$vars") -ge 14 ]] || fail "could not read the variables from the sources"
for var in $vars; do
  grep -q "^\*$var\*$" "$SRC/fractfs.toml.5.scd" || fail "$var has no entry in fractfs.toml(5)"
done
# Exit statuses of the commands (cli/args.hpp) in fractfs(1) and fractfs-run(1).
for status in $(grep -oE 'kExit[A-Za-z]+ = [0-9]+' "$REPO/cli/args.hpp" | awk '{ print $3 }'); do
  for page in fractfs.1 fractfs-run.1; do
    [[ $page == fractfs-run.1 && $status == 0 ]] && continue  # the app's own status there
    awk '/^# EXIT STATUS/ { on = 1; next } /^# / { on = 0 } on' "$SRC/$page.scd" | grep -q "^\*$status\*$" ||
      fail "exit status $status is not in $page's EXIT STATUS"
  done
done
echo "man pages: no groff warnings; options, commands, $(wc -w <<<"$keys") keys, $(wc -w <<<"$vars") variables in step with the code"
