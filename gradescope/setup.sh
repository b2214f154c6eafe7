#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu base image).
# It installs Python 3.10+ and the course package's dependencies in /autograder/venv.
# The grader itself runs from the course source in this zip (course/), see run_autograder.
set -euo pipefail
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install -q --upgrade pip
/autograder/venv/bin/python -m pip install -q /autograder/source/course   # numpy, scipy, matplotlib
chmod -R a+rX /autograder/venv /autograder/source   # student code runs as a throwaway user and must read them
chmod 600 /autograder/source/SALT                    # ... but never the course's secret salt
if [ -d /autograder/source/private_tests ]; then chmod -R go-rwx /autograder/source/private_tests; fi  # nor your tests
