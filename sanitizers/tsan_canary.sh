#!/bin/bash
# Runs cbx_tsan_canary ($1) under the suite's TSAN_OPTIONS (with its own
# log folder, so that `make tsan`'s findings are the suite's alone) and
# checks that TSan reported the handler's unguarded counter and nothing
# else: the options and suppressions hide no race of project code run in
# gRPC's threads, and the project's std::mutex is seen.
set -u
canary="$1"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
TSAN_OPTIONS="${TSAN_OPTIONS:-}:log_path=$logs/canary:exitcode=66" "$canary"
rc=$?
reports=$(cat "$logs"/canary* 2>/dev/null)
fail() {
  echo "cbx_tsan_canary: $1" >&2
  echo "$reports" >&2
  exit 1
}
[ "$rc" -eq 66 ] || fail "expected TSan's exit code 66 (a race found), got $rc"
races=$(grep -c "WARNING: ThreadSanitizer: data race" <<<"$reports")
[ "$races" -ge 1 ] || fail "no data race reported"
unguarded=$(grep -c "^SUMMARY: ThreadSanitizer: data race .* in .*UnguardedCount" <<<"$reports")
[ "$unguarded" -eq "$races" ] ||
  fail "$races race(s) reported, $unguarded of them in UnguardedCount"
grep -q "GuardedCount\b" <<<"$(grep -v UnguardedCount <<<"$reports")" &&
  fail "the std::mutex-guarded counter was reported"
echo "cbx_tsan_canary: the handler's unguarded counter was reported ($races report(s)), the guarded one was not"
