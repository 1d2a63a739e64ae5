#!/usr/bin/env bash
# Bash completion (completion/fractfs.bash): commands and options agree with
# --help; --root completes directories, --generation the numbers that
# `fractfs log` lists (for the root given on the line); fractfs-run completes
# its options, then COMMAND, then (with bash-completion) COMMAND's own
# arguments; bash-completion's loader finds the installed file by itself.
source "$(dirname "$0")/lib.sh"
COMPLETION=$REPO/completion/fractfs.bash

# complete LINE: what TAB offers at the end of LINE, one per line, sorted.
complete_line() {
  bash --norc -c '
    source "$1"
    PATH=$2:$PATH
    read -ra COMP_WORDS <<<"$3"
    [[ $3 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$3 COMP_POINT=${#3}
    case ${COMP_WORDS[0]} in
      fractfs) _fractfs ;;
      fractfs-run) _fractfs_run ;;
    esac
    printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$BIN" "$1" | sed '/^$/d' | sort
}
commands=$(fractfs_commands)
same_set "fractfs <TAB>" "$(printf '%s\n' $commands --help -h | sort)" "$(complete_line 'fractfs ')"
same_set "fractfs st<TAB>" "$(printf '%s\n' status | sort)" "$(complete_line 'fractfs st')"
for cmd in $commands; do
  same_set "fractfs $cmd -<TAB>" "$( (help_options "$BIN/fractfs" "$cmd"; printf '%s\n' -h --help) | sort -u)" \
    "$(complete_line "fractfs $cmd -")"
done
same_set "fractfs-run -<TAB>" "$( (help_options "$BIN/fractfs-run"; printf '%s\n' -h --help --) | sort -u)" \
  "$(complete_line 'fractfs-run -')"

# --root: directories only.
mkdir -p "$T/app/sub" && touch "$T/app/file"
same_set "--root DIR" "$T/app/sub" "$(complete_line "fractfs status --root $T/app/")"
same_set "--root=DIR" "$T/app/sub" "$(complete_line "fractfs status --root=$T/app/")"
same_set "fractfs-run --root DIR" "$T/app/sub" "$(complete_line "fractfs-run --root $T/app/")"
# check: paths.
same_set "check PATH" "$(printf '%s\n' "$T/app/file" "$T/app/sub")" "$(complete_line "fractfs check $T/app/")"

# --generation: the generations of the root named on the line, from any
# directory. Two checkpoints by the fractfs command alone (no shim needed);
# the node restores first, so that it may checkpoint.
mkdir -p "$T/gen/app" "$T/gen/remote"
cat > "$T/gen/app/.fractfs.toml" <<TOML
remote_root = "$T/gen/remote"
scratch = "$T/gen/scratch"
TOML
"$BIN/fractfs" restore --root "$T/gen/app" >/dev/null
echo 1 > "$T/gen/app/file" && "$BIN/fractfs" sync --root "$T/gen/app" >/dev/null
echo 2 > "$T/gen/app/file" && "$BIN/fractfs" sync --root "$T/gen/app" >/dev/null
gens=$("$BIN/fractfs" log --root "$T/gen/app" | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort)
[[ $(wc -l <<<"$gens") == 2 ]] || fail "expected two generations, got [$gens]"
same_set "restore --generation N" "$gens" "$(cd / && complete_line "fractfs restore --root $T/gen/app --generation ")"
same_set "restore --generation=N" "$gens" "$(cd / && complete_line "fractfs restore --root=$T/gen/app --generation=")"
same_set "no root, no generations" "" "$(cd / && complete_line "fractfs restore --generation ")"

# fractfs-run: COMMAND from PATH, after -- or the options.
[[ $(complete_line 'fractfs-run -- fractfs-r') == fractfs-run ]] || fail "fractfs-run -- COMMAND"
[[ $(complete_line 'fractfs-run -v fractfs-r') == fractfs-run ]] || fail "fractfs-run -v COMMAND"

# With bash-completion: its loader finds the installed file (fractfs-run is
# a link to it) from the install's data directory, and fractfs-run hands
# COMMAND's arguments to COMMAND's own completion.
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [[ -r $BASH_COMPLETION ]]; then
  mk install DESTDIR="$T/stage" prefix=/usr/local >/dev/null
  out=$(XDG_DATA_DIRS=$T/stage/usr/local/share bash --norc -c '
    source "$1"
    for cmd in fractfs fractfs-run; do __load_completion "$cmd" && complete -p "$cmd"; done
    COMP_WORDS=(fractfs-run -- fractfs sta) COMP_CWORD=3 COMP_LINE="fractfs-run -- fractfs sta" COMP_POINT=27
    _fractfs_run
    echo "offered: ${COMPREPLY[*]}"' _ "$BASH_COMPLETION" 2>&1)
  assert_contains "$out" "complete -F _fractfs fractfs" "bash-completion loading fractfs"
  assert_contains "$out" "complete -F _fractfs_run fractfs-run" "bash-completion loading fractfs-run"
  assert_contains "$out" "offered: status" "fractfs-run -- fractfs sta<TAB>"
else
  echo "bash-completion is not installed: its loader is not tried" >&2
fi
echo "completion: commands, options, --root, --generation and fractfs-run's COMMAND"
