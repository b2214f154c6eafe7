#!/usr/bin/env bash
# Build the Gradescope autograder zip for one exercise notebook.
#   bash gradescope/build_autograder.sh NOTEBOOK [--private-tests DIR] [--options "--timeout 120"] [--out FILE.zip]
# e.g. bash gradescope/build_autograder.sh 02_message_passing --private-tests ~/private/02
# The zip holds setup.sh and run_autograder at its root, NOTEBOOK, GRADER_OPTIONS, SALT (the course's
# secret salt that seeds the graded inputs: GRADER_SALT_FILE, else a new one), the course package
# (course/: pyproject.toml, README.md, refimpl/, coursework/) and private_tests/ when given.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
notebook="${1:?usage: build_autograder.sh NOTEBOOK [--private-tests DIR] [--options STRING] [--out FILE.zip]}"
shift
private="" options="" out="$repo/gradescope/autograder_$notebook.zip"
while [ $# -gt 0 ]; do
  case "$1" in
    --private-tests) private="$(cd "$2" && pwd)"; shift 2 ;;
    --options) options="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-python3}"   # a Python with numpy (e.g. the course's virtual environment)
"$python" - "$notebook" <<PY || { echo "no exercises registered for notebook '$notebook'" >&2; exit 2; }
import sys; sys.path.insert(0, "$repo")
from coursework.checks import load_all
sys.exit(0 if sys.argv[1] in {ex.notebook for ex in load_all().values()} else 1)
PY
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$here/setup.sh" "$here/run_autograder" "$stage/"
chmod +x "$stage/setup.sh" "$stage/run_autograder"
echo "$notebook" > "$stage/NOTEBOOK"
echo "$options" > "$stage/GRADER_OPTIONS"
mkdir "$stage/course"
cp "$repo/pyproject.toml" "$repo/README.md" "$stage/course/"
(cd "$repo" && tar --exclude=__pycache__ -cf - refimpl coursework) | tar -xf - -C "$stage/course"
if [ -n "${GRADER_SALT_FILE:-}" ]; then cp "$GRADER_SALT_FILE" "$stage/SALT"; else
  "$python" -c 'import secrets; print(secrets.token_hex(32))' > "$stage/SALT"; fi
chmod 600 "$stage/SALT"
[ -n "$private" ] && cp -r "$private" "$stage/private_tests"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
rm -f "$out"
(cd "$stage" && "$python" -m zipfile -c "$out" setup.sh run_autograder NOTEBOOK GRADER_OPTIONS SALT course \
  $( [ -n "$private" ] && echo private_tests ))
echo "wrote $out"
