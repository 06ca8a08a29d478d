#!/usr/bin/env bash
# Runs every micro benchmark of a build in turn:
#   scripts/bench.sh BUILD_DIR [benchmark flags...]
# runs each executable BUILD_DIR/bench/*/cbx_*_bench with the given flags
# (e.g. --benchmark_min_time=0.2), and exits non-zero if any of them fails or
# none is found.
#
# The audit log's proof benchmark (cbx_audit_proof_bench) times inclusion and
# consistency proofs from a real log of 1M entries; with
#   CBX_AUDIT_PROOF_10M=1 make bench
# it does 10M as well. It keeps the databases it builds, for later runs, in
# $CBX_AUDIT_PROOF_CACHE (default /var/tmp/cbx-audit-proof-bench): about
# 0.2 GB for 1M, 2.1 GB for 10M (which takes one to two minutes to build).
# Delete that folder to reclaim the space.
#
# cbx_audit_open_bench times AuditLog::Open of such a log, cold and warm, when
# CBX_AUDIT_OPEN_DB names one (e.g. .../audit-10000000.db); without it, it
# says so and passes.
#
# cbx_federation_bench starts a whole federation on loopback: 33 real
# cbx-node processes (EU27 + AL BA ME MK RS XK) with 10,000 seeded index tags
# each, and measures query p99 to 32 peers, threads and RSS per node, index
# catch-up after a day offline and a bulk check of 10,000 identifiers
# against 7 peers. It takes several minutes; CBX_FEDERATION_BENCH=0 skips
# it, and its own flags (--members, --tags) size it when run by hand.
#
# The PostgreSQL benchmarks (cbx_audit_pg_bench, cbx_pg_query_latency_bench,
# cbx_pg_failover_bench: each starts its own throwaway cluster) run here too
# with their defaults; `make bench-pg` (scripts/bench-pg.sh) runs just them,
# with the run's parameters, and prints their figures as one table.
set -uo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [benchmark flags...]" >&2
  exit 2
fi
build_dir=$1
shift

shopt -s nullglob
benches=()
for candidate in "$build_dir"/bench/*/cbx_*_bench; do
  [[ -f $candidate && -x $candidate ]] && benches+=("$candidate")
done
if [[ ${#benches[@]} -eq 0 ]]; then
  echo "no benchmarks found under $build_dir/bench/*/cbx_*_bench" >&2
  exit 1
fi

failed=()
for bench in "${benches[@]}"; do
  echo "=== $bench"
  if ! "$bench" "$@"; then
    echo "FAILED: $bench" >&2
    failed+=("$bench")
  fi
  echo
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "${#failed[@]} of ${#benches[@]} benchmarks failed: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#benches[@]} benchmarks passed"
