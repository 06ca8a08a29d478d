#!/usr/bin/env bash
# Makes the schema fixtures in tests/fixtures/schema/ (docs/operations.md
# "Upgrades"): the node.db and audit.db this release writes, from a short
# real run, and node.db of each older schema version.
#
#   scripts/make-schema-fixtures.sh [BUILD_DIR] [OUT_DIR]
#
# The run: two nodes (MK, RS) on loopback with the demo PKI; each registers
# a fictional case, each queries the other's identifier (a hit on one side,
# an inbox notification on the other), and checkpoints are signed and
# witnessed. The nodes are stopped and MK's files copied out with
# `cbx-admin backup` (one consistent snapshot each, a single file):
#
#   node-v<N>.db   N = node.db's schema (kSchemaVersion, sqlite_schema.h)
#   audit-v<M>.db  M = audit.db's schema (kAuditSchemaVersion, audit_store.h)
#
# Older node.db versions (node-v1 .. node-v<N-1>): every migration step only
# adds tables and indexes (sqlite_schema.cc: released steps are never
# edited), so version K's schema is the current one less what steps K+1..N
# added. Each is derived from node-v<N>.db by dropping those objects, and
# checked: its sqlite_schema must equal that of an empty database made by
# running the migration SQL of steps 1..K taken from sqlite_schema.cc. The
# content is what this release wrote (settings older releases did not write
# are kept; they are ignored by the code that does not know them).
#
# Existing fixtures are kept (a released file must never change); delete
# one to make it again. Every name, number and case is fictional.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
OUT=${2:-$ROOT/tests/fixtures/schema}
BASE_PORT=${CBX_FIXTURE_BASE_PORT:-7650}
NODE=$BUILD/node/cbx-node
# cbx-node refuses to run as root unless told (spec/node-config.md).
ALLOW_ROOT=()
if [[ $(id -u) == 0 ]]; then ALLOW_ROOT=(--allow-root); fi
ADMIN=$BUILD/admin/cbx-admin
CBX=$BUILD/client/cbx
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell" >&2; exit 1; }

RUN=$(mktemp -d /tmp/cbx-fixtures.XXXXXX)
declare -A PIDS=()
cleanup() {
  for cc in "${!PIDS[@]}"; do kill -TERM "${PIDS[$cc]}" 2>/dev/null || true; done
  for cc in "${!PIDS[@]}"; do wait "${PIDS[$cc]}" 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap cleanup EXIT

# The migration SQL of step K (kSchemaV<K> in sqlite_schema.cc).
migration_sql() {
  python3 - "$ROOT/node/storage/sqlite_schema.cc" "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'constexpr char kSchemaV%s\[\] = R"sql\((.*?)\)sql";' % sys.argv[2], text, re.S)
print(m.group(1) if m else "", end="")
EOF
}
schema_of() {
  sqlite3 "$1" "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name"
}

node_version=$(sed -n 's/.*kSchemaVersion = \([0-9]*\);.*/\1/p' "$ROOT/node/storage/sqlite_schema.h")
audit_version=$(sed -n 's/.*kAuditSchemaVersion = \([0-9]*\);.*/\1/p' "$ROOT/node/audit/audit_store.h")
mkdir -p "$OUT"
NODE_FIXTURE=$OUT/node-v$node_version.db
AUDIT_FIXTURE=$OUT/audit-v$audit_version.db

office() {  # office CC ROLE cbx-args...
  local cc=$1 role=$2; shift 2
  local cert; cert=$(ls "$RUN/fed/$cc"/offices/*-"$role".crt | head -n 1)
  local port
  port=$(sed -n 's/.*"office_listen": *"[^:]*:\([0-9]*\)".*/\1/p' "$RUN/fed/$cc/node.json")
  "$CBX" --node "localhost:$port" --cert "$cert" --key "${cert%.crt}.key" \
    --ca "$RUN/fed/$cc/ca.crt" "$@"
}

if [[ ! -f "$NODE_FIXTURE" || ! -f "$AUDIT_FIXTURE" ]]; then
  bash "$ROOT/certs/make-federation.sh" "$RUN/fed" --countries MK,RS \
    --base-port "$BASE_PORT" --admin "$ADMIN" >"$RUN/make.log" 2>&1 || {
    cat "$RUN/make.log"; exit 1; }
  for cc in MK RS; do
    sed -i '$ s/^}$/,"audit": {"checkpoint_interval_ms": 300, "witness_interval_ms": 200}}/' \
      "$RUN/fed/$cc/node.json"
    "$NODE" --config "$RUN/fed/$cc/node.json" "${ALLOW_ROOT[@]}" >"$RUN/$cc.log" 2>&1 &
    PIDS[$cc]=$!
  done
  for cc in MK RS; do
    for _ in $(seq 1 100); do
      office "$cc" operator peers >/dev/null 2>&1 && break
      sleep 0.1
    done
  done
  office MK prosecutor case add MK-2026-0001 --id email:fixture.mk@example.org \
    --offence ncii-sharing --role administrator --contact '+389 2 555 0000 (fictional)' >/dev/null
  office RS prosecutor case add RS-2026-0001 --id email:fixture.rs@example.org \
    --offence ncii-sharing --role poster --contact '+381 11 555 0000 (fictional)' >/dev/null
  for _ in $(seq 1 100); do  # each holds the other's index
    office MK operator peers --json 2>/dev/null | grep -q '"index_count": *1' &&
      office RS operator peers --json 2>/dev/null | grep -q '"index_count": *1' && break
    sleep 0.2
  done
  office MK prosecutor query --id email:fixture.rs@example.org --case MK-2026-0001 \
    --legal-basis 'fixture (fictional)' --offence ncii-sharing >/dev/null
  office RS prosecutor query --id email:fixture.mk@example.org --case RS-2026-0001 \
    --legal-basis 'fixture (fictional)' --offence ncii-sharing >/dev/null
  sleep 2  # checkpoints signed (every 300 ms) and cosigned (every 200 ms)
  for cc in MK RS; do kill -TERM "${PIDS[$cc]}"; wait "${PIDS[$cc]}" || true; done
  PIDS=()
  rm -f "$NODE_FIXTURE" "$AUDIT_FIXTURE"
  if "$ADMIN" --help 2>/dev/null | grep -q "^ *backup "; then
    "$ADMIN" backup --config "$RUN/fed/MK/node.json" --out "$NODE_FIXTURE" \
      --audit-out "$AUDIT_FIXTURE" 2>/dev/null
  else  # a cbx-admin from before `backup`: the nodes are stopped, so a
        # plain copy is consistent; made a single file the same way
    for pair in "node.db:$NODE_FIXTURE" "audit.db:$AUDIT_FIXTURE"; do
      sqlite3 "$RUN/fed/MK/data/${pair%%:*}" ".backup '${pair#*:}'"
      sqlite3 "${pair#*:}" "PRAGMA journal_mode=DELETE" >/dev/null
    done
  fi
  echo "made $NODE_FIXTURE and $AUDIT_FIXTURE"
fi

# What migration step K (1-based) added, to drop from version K's successor.
declare -A ADDED=(
  [2]="DROP TABLE peer_index_baselines; DROP TABLE index_evidence;"
  [3]="DROP INDEX identifiers_by_value; DROP TABLE staged_outputs; DROP TABLE previous_outputs;"
  [4]="DROP TABLE directory_evidence;"
)
previous=$NODE_FIXTURE
for ((k = node_version - 1; k >= 1; k--)); do
  target=$OUT/node-v$k.db
  if [[ ! -f "$target" ]]; then
    [[ -n "${ADDED[$((k + 1))]:-}" ]] || {
      echo "no drop list for step $((k + 1)): add it to ADDED" >&2; exit 1; }
    cp "$previous" "$RUN/derived.db"
    sqlite3 "$RUN/derived.db" "${ADDED[$((k + 1))]} PRAGMA user_version = $k; VACUUM;"
    rm -f "$RUN/expected.db"
    for ((step = 1; step <= k; step++)); do
      migration_sql "$step" | sqlite3 "$RUN/expected.db"
    done
    if [[ "$(schema_of "$RUN/derived.db")" != "$(schema_of "$RUN/expected.db")" ]]; then
      echo "node-v$k: the derived schema is not the one migrations 1..$k make" >&2
      diff <(schema_of "$RUN/derived.db") <(schema_of "$RUN/expected.db") >&2 || true
      exit 1
    fi
    install -m 0600 "$RUN/derived.db" "$target"
    echo "made $target"
  fi
  previous=$target
done
ls -l "$OUT"
