# bash completion for fractfs and fractfs-run.              -*- shell-script -*-
# Installed as $(datarootdir)/bash-completion/completions/fractfs, with
# fractfs-run a link to it; bash-completion loads it on first use.
# The option lists below must match each command's --help: the test
# tests/install/test_completion.sh compares them.

_fractfs_commands="init check config status sync restore log helper doctor"

# The options of a fractfs command (or of fractfs-run).
_fractfs_options() {
  case $1 in
    check) echo "--root -v --verbose --stdin -h --help" ;;
    config | init) echo "--root -h --help" ;;
    helper) echo "--root --ready-fd --foreground -h --help" ;;
    status | log | doctor) echo "--root --json -h --help" ;;
    sync) echo "--root --full -h --help" ;;
    restore) echo "--root --generation --overwrite -n --dry-run -h --help" ;;
    fractfs-run) echo "--root --take-over -v --verbose -h --help --version --" ;;
  esac
}

# The program as typed (~ expanded), to ask it for generation numbers.
_fractfs_program() {
  local p=${COMP_WORDS[0]}
  [[ $p == "~/"* ]] && p=$HOME/${p#"~/"}
  printf '%s\n' "$p"
}

# The value of --root on the command line (--root DIR or --root=DIR).
_fractfs_root() {
  local i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == --root ]]; then
      if [[ ${COMP_WORDS[i + 1]} == = ]]; then printf '%s\n' "${COMP_WORDS[i + 2]}"; else printf '%s\n' "${COMP_WORDS[i + 1]}"; fi
      return
    fi
    [[ $w == --root=* ]] && { printf '%s\n' "${w#--root=}"; return; }
  done
}

# Generation numbers, newest first, from `fractfs log`.
_fractfs_generations() {
  local root args=()
  root=$(_fractfs_root)
  [[ -n $root ]] && args=(--root "${root/#\~/$HOME}")
  "$(_fractfs_program)" log "${args[@]}" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }'
}

_fractfs_dirs() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

_fractfs_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

# The word being completed and the one before it; "--opt=" split by
# COMP_WORDBREAKS shows as (--opt, =, value).
_fractfs_words() {
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = && COMP_CWORD -ge 2 ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  elif [[ $cur == --*=* ]]; then
    prev=${cur%%=*} cur=${cur#*=}
  fi
}

_fractfs() {
  local cur prev cmd i
  COMPREPLY=()
  _fractfs_words
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$_fractfs_commands --help -h" -- "$cur")
    return
  fi
  cmd=${COMP_WORDS[1]}
  [[ " $_fractfs_commands " == *" $cmd "* ]] || return
  case $prev in
    --root) _fractfs_dirs "$cur"; return ;;
    --generation) mapfile -t COMPREPLY < <(compgen -W "$(_fractfs_generations)" -- "$cur"); return ;;
  esac
  for ((i = 2; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} == -- ]] && { _fractfs_files "$cur"; return; }
  done
  if [[ $cmd == check && $cur != -* ]]; then
    _fractfs_files "$cur"
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_fractfs_options "$cmd")" -- "$cur")
  fi
}

_fractfs_run() {
  local cur prev i w start=0
  COMPREPLY=()
  _fractfs_words
  # Where COMMAND starts: after "--", or at the first non-option word.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case $w in
      --) start=$((i + 1)); break ;;
      --root) ((i++)); [[ ${COMP_WORDS[i]} == = ]] && ((i++)) ;;
      -*) ;;
      *) start=$i; break ;;
    esac
  done
  if ((start == 0)) && [[ $prev == --root ]]; then
    _fractfs_dirs "$cur"
  elif ((start == 0)) && [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_fractfs_options fractfs-run)" -- "$cur")
  elif ((start == 0 || start == COMP_CWORD)); then
    mapfile -t COMPREPLY < <(compgen -c -- "$cur")
  elif declare -F _command_offset >/dev/null; then
    _command_offset "$start"  # bash-completion: complete COMMAND's own arguments
  else
    _fractfs_files "$cur"
  fi
}

complete -F _fractfs fractfs
complete -F _fractfs_run fractfs-run
