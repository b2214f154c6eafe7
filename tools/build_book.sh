#!/usr/bin/env bash
# Build the book into _build/html, executing every chapter; any warning (a failing cell included) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf _build/html _build/.doctrees
jupyter-book build . --warningiserror --keep-going "$@"
