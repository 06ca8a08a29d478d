#!/usr/bin/env bash
# PostgreSQL against SQLite, and the pair's failover, in one run on this
# machine (issue 15, "Benchmarks"):
#   scripts/bench-pg.sh BUILD_DIR
# runs, one after the other, each starting its own throwaway PostgreSQL 15
# cluster(s) (fsync on) and removing them:
#   cbx_audit_pg_bench          durable audit appends per second, single
#                               appends and batches of 64, SQLite and
#                               PostgreSQL back to back, 3 rounds;
#   cbx_pg_query_latency_bench  Office.Query p50/p99 at a node on
#                               PostgreSQL and one on SQLite in one
#                               federation, alternating, 500 queries each;
#   cbx_pg_failover_bench       the pair's takeover after SIGKILL (5) and
#                               SIGSTOP (5), and a replica's promotion (3);
# then prints their summary lines as one table, with the load average at
# the start and the end (the machine may be shared: the ratios, taken
# within one run, are the figures; the absolute times only describe it).
# Their full output is in BUILD_DIR/bench-pg.log. Takes several minutes.
# Exits non-zero if a benchmark fails.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir=$1
log=$build_dir/bench-pg.log
: >"$log"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

run() {
  local bench=$1
  shift
  echo "=== $bench $*" | tee -a "$log"
  if ! "$build_dir/bench/$bench" "$@" 2>&1 | tee -a "$log"; then
    echo "FAILED: $bench" >&2
    exit 1
  fi
}
run audit_pg/cbx_audit_pg_bench --seconds 3 --repeat 3 --batches 1,64
run node/cbx_pg_query_latency_bench --queries 500 --warmup 30
run node/cbx_pg_failover_bench --kills 5 --stops 5 --promotions 3

if grep -q ': skipped' "$log"; then
  echo "some benchmarks were skipped (no PostgreSQL server binaries)" >&2
  exit 1
fi
echo
echo "=== PostgreSQL vs SQLite, one run ($(nproc) cores; load average" \
  "$load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
echo "durable audit appends per second, PostgreSQL / SQLite:"
grep -E '^  batch +[0-9]+: PostgreSQL / SQLite' "$log"
echo "office query latency (client, until the QuerySummary):"
grep -E '^[0-9]+ queries per node' "$log" | sed 's/^/  /'
grep -E "^  querier's storage|^  (PostgreSQL|SQLite) \(" "$log"
grep -E '^ratio PostgreSQL / SQLite' "$log" | sed 's/^/  /'
echo "failover:"
grep -E '^failover: ' "$log" | sed 's/^failover: /  /'
