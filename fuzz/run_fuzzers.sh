#!/usr/bin/env bash
# `make fuzz`: builds every libFuzzer target with clang in $FUZZ_BUILD_DIR
# and runs each for FUZZ_SECONDS, one after the other. New inputs go to a
# scratch folder, never into fuzz/corpus, unless FUZZ_MERGE=1: then what
# adds coverage is merged into fuzz/corpus/<target>/ (libFuzzer -merge=1).
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   which targets (default: every fuzz/*_fuzz.cc)
#   FUZZ_OUT       scratch folder (default /tmp/cbx-fuzz); per target:
#                  new/ (new inputs), crash-*/leak-*/timeout-* (findings),
#                  log (libFuzzer's output)
#   FUZZ_MERGE=1   merge new/ into the committed corpus afterwards
#   FUZZ_BUILD_DIR build folder (default build-fuzz)
#
# Prints, per target, libFuzzer's final line (execs, cov, ft, corpus, exec/s)
# and exits non-zero if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
OUT="${FUZZ_OUT:-/tmp/cbx-fuzz}"
BUILD="${FUZZ_BUILD_DIR:-build-fuzz}"
if [[ -z "${FUZZ_TARGETS:-}" ]]; then
  FUZZ_TARGETS="$(ls fuzz/*_fuzz.cc | xargs -n1 basename | sed 's/\.cc$//')"
fi

if [[ ! -f "$BUILD/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja \
    -DCBX_BUILD_FUZZERS=ON -DCBX_BUILD_BENCHMARKS=OFF
fi
# shellcheck disable=SC2086
nice -n 5 cmake --build "$BUILD" -j "$(nproc)" --target $FUZZ_TARGETS

failed=0
summary=()
for t in $FUZZ_TARGETS; do
  dir="$OUT/$t"
  mkdir -p "$dir/new"
  echo "== $t: ${SECONDS_EACH}s (log: $dir/log)"
  set +e
  nice -n 5 "$BUILD/fuzz/$t" -max_total_time="$SECONDS_EACH" \
    -print_final_stats=1 -artifact_prefix="$dir/" \
    "$dir/new" "fuzz/corpus/$t" >"$dir/log" 2>&1
  rc=$?
  set -e
  last="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/log" | tail -1 || true)"
  execs="$(grep -E '^stat::number_of_executed_units' "$dir/log" |
           awk '{print $2}' | tail -1)"
  if [[ $rc -ne 0 ]]; then
    failed=1
    last="FOUND A CRASH (rc $rc): $(ls "$dir" | grep -E '^(crash|leak|timeout|oom)-' | tr '\n' ' ')"
  fi
  summary+=("$t: execs ${execs:-?}; $last")
  if [[ "${FUZZ_MERGE:-0}" == 1 && $rc -eq 0 ]]; then
    nice -n 5 "$BUILD/fuzz/$t" -merge=1 "fuzz/corpus/$t" "$dir/new" \
      >>"$dir/log" 2>&1
  fi
done

echo
printf '%s\n' "${summary[@]}"
exit $failed
