#!/usr/bin/env bash
# Build the book into _build/html (or the --path-output given), executing every chapter; any warning
# (a failing cell included) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out="."
args=("$@")
for ((k = 0; k < ${#args[@]}; k++)); do
  case "${args[k]}" in
    --path-output) out="${args[k + 1]:-.}" ;;
    --path-output=*) out="${args[k]#--path-output=}" ;;
  esac
done
rm -rf "$out/_build/html" "$out/_build/.doctrees"     # a fresh build of this edition only
jupyter-book build . --warningiserror --keep-going "$@"
