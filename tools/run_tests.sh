#!/usr/bin/env bash
# Run every test: refimpl tests, exercise tests (solutions pass, unsolved exercises fail), and every
# notebook in book/, solutions/ and exercises/ executed by nbval. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pytest -n 2 --dist loadfile --nbval-lax tests book solutions exercises "$@"
