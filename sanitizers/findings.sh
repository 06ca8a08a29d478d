#!/bin/bash
# Prints every sanitizer report written to the folder $1 (by the test
# binaries and by the cbx-node processes they start, through the
# *SAN_OPTIONS log_path that `make sanitize` / `make tsan` set) and fails if
# there is any. Reports suppressed by sanitizers/*.supp are not written.
set -u
dir="$1"
shopt -s nullglob
reports=("$dir"/*)
if [ "${#reports[@]}" -eq 0 ]; then
  echo "sanitizers: 0 findings (no report in $dir)"
  exit 0
fi
for f in "${reports[@]}"; do
  echo "=== $f"
  cat "$f"
done
echo "sanitizers: ${#reports[@]} report file(s) in $dir" >&2
exit 1
