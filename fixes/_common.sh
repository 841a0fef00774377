# Shared by every fix script (sourced, never run on its own): the DRY_RUN convention in one place.
# shellcheck shell=bash

# run CMD ARGS...: run a command, or with DRY_RUN=1 print it shell-quoted after a "+" and change nothing.
run() {
  if [ "${DRY_RUN:-0}" = "1" ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# say_export NAME VALUE: print an "export NAME=VALUE" line safe to paste (the value shell-quoted).
say_export() {
  printf '  export %s=%q\n' "$1" "$2"
}
