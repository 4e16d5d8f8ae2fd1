#!/usr/bin/env bash
# Install embedkit with its test extras and run the whole test suite (slow end-to-end tests included).
# pytest's exit code 5 ("no tests collected") is a failure here, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e '.[test]' || exit 1
python3 -m pytest -p no:cacheprovider --timeout=1800 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$rc"
