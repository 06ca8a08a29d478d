#!/usr/bin/env bash
# make demo: a federation of eight Western Balkan nodes on this machine, with
# mutual TLS, answering one cross-border query end to end.
#
# Every name, number and case below is fictional.
set -euo pipefail

BUILD_DIR=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$ROOT/$BUILD_DIR" && pwd)
RUN=${CBX_DEMO_DIR:-$ROOT/demo-run}
BASE_PORT=${CBX_DEMO_BASE_PORT:-7100}
COUNTRIES=(MK RS BA HR ME AL XK SI)
NODE=$BUILD/node/cbx-node
ADMIN=$BUILD/admin/cbx-admin
CBX=$BUILD/client/cbx

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '   \033[2m$ %s\033[0m\n' "$*"; }

declare -A PIDS=()
stop_all() {
  for cc in "${!PIDS[@]}"; do kill -TERM "${PIDS[$cc]}" 2>/dev/null || true; done
  for cc in "${!PIDS[@]}"; do wait "${PIDS[$cc]}" 2>/dev/null || true; done
  PIDS=()
}
trap stop_all EXIT

# cbx as an office of country $1 with role $2; the rest are cbx's arguments.
as_office() {
  local cc=$1 role=$2
  shift 2
  local cert
  cert=$(office_cert "$cc" "$role")
  local port
  port=$(sed -n 's/.*"office_listen": *"[^:]*:\([0-9]*\)".*/\1/p' "$RUN/$cc/node.json")
  "$CBX" --node "localhost:$port" --cert "$cert" --key "${cert%.crt}.key" \
    --ca "$RUN/$cc/ca.crt" "$@"
}
# The capital's office where the demo PKI has one, else the first office.
declare -A CAPITAL=([MK]=PPO-Skopje [RS]=VJT-Beograd [BA]=TBiH-Sarajevo [HR]=ZDO-Zagreb
  [ME]=VDT-Podgorica [AL]=PPSH-Tirane [XK]=PTH-Prishtine [SI]=ODT-Ljubljana)
office_cert() {
  local preferred="$RUN/$1/offices/${CAPITAL[$1]:-none}-$2.crt"
  if [ -f "$preferred" ]; then echo "$preferred"; else ls "$RUN/$1"/offices/*-"$2".crt | head -n 1; fi
}
office_name() { basename "$(office_cert "$1" prosecutor)" -prosecutor.crt; }

bold "cbx demo — do any of our neighbours hold a case on the same perpetrator?"
say "Eight prosecution services (MK RS BA HR ME AL XK SI) each run a cbx-node."
say "Nodes answer blindly: a peer learns nothing about an identifier it does not hold."

bold "1. The federation's PKI, keys and signed genesis directory"
rm -rf "$RUN"
run "certs/make-federation.sh $RUN --countries $(IFS=,; echo "${COUNTRIES[*]}") --base-port $BASE_PORT"
bash "$ROOT/certs/make-federation.sh" "$RUN" --countries "$(IFS=,; echo "${COUNTRIES[*]}")" \
  --base-port "$BASE_PORT" --admin "$ADMIN" >"$RUN.make.log" 2>&1 || {
  cat "$RUN.make.log"; exit 1; }
mv "$RUN.make.log" "$RUN/make-federation.log"
say "a national CA per country; node certificates spiffe://cbx/member/<CC>;"
say "office certificates spiffe://cbx/office/<CC>/<office>/<role>;"
"$ADMIN" directory verify --genesis "$RUN/genesis.pb" | sed 's/^/   /'

bold "2. Starting eight nodes on loopback (mutual TLS on every port)"
for cc in "${COUNTRIES[@]}"; do
  # Demo pace: a checkpoint every 2 s, witnessed by peers every 0.3 s.
  sed -i '$ s/^}$/,"audit": {"checkpoint_interval_ms": 2000, "witness_interval_ms": 300}}/' \
    "$RUN/$cc/node.json"
done
# cbx-node refuses to run as root unless told (spec/node-config.md); the
# demo runs as whoever calls it, root in CI containers.
ALLOW_ROOT=()
if [ "$(id -u)" -eq 0 ]; then ALLOW_ROOT=(--allow-root); fi
for cc in "${COUNTRIES[@]}"; do
  "$NODE" --config "$RUN/$cc/node.json" "${ALLOW_ROOT[@]}" >"$RUN/$cc/node.log" 2>&1 &
  PIDS[$cc]=$!
done
for cc in "${COUNTRIES[@]}"; do
  for _ in $(seq 1 100); do
    if as_office "$cc" operator peers >/dev/null 2>&1; then break; fi
    if ! kill -0 "${PIDS[$cc]}" 2>/dev/null; then
      echo "cbx demo: $cc's node stopped at start:"; cat "$RUN/$cc/node.log"; exit 1
    fi
    sleep 0.1
  done
  say "$cc ready  (log: demo-run/$cc/node.log)"
done

bold "3. Prosecutors register their own (fictional) cases in their own node"
add_case() {
  local cc=$1; shift
  run "cbx case add $*   # as $(office_name "$cc")"
  as_office "$cc" prosecutor case add "$@" >/dev/null
}
# A query's purpose is one of the asking office's own open cases: Skopje's
# case comes first.
add_case MK MK-2026-0142 --id telegram_username:balkan_room_admin \
  --offence ncii-sharing --role administrator --contact '+389 2 555 0000 (24/7 duty prosecutor, fictional)'
add_case RS RS-KT-2026-0117 --id telegram_username:balkan_room_admin \
  --id 'phone@2025-03..2026-02:+381 64 555 0101' --offence ncii-sharing \
  --offence group-admin --role administrator --contact '+381 11 555 0000 (24/7 duty prosecutor, fictional)'
add_case BA BA-T09-2026-0042 --id 'telegram_username@2025-06..:@Balkan_Room_Admin' \
  --id telegram_user_id:5012345678 --offence ncii-sharing+ai --role administrator \
  --contact '+387 33 555 000 (24/7, fictional)'
add_case HR HR-KO-2026-0315 --id telegram_chat:t.me/smokva_public_room \
  --offence cyber-harassment --role poster --contact '+385 1 555 0000 (24/7, fictional)'
add_case ME ME-2026-0021 --id email:sender.of.threats@example.org \
  --offence ncii-threat --role requester --contact '+382 20 555 000 (24/7, fictional)'
add_case AL AL-2026-0888 --id phone:+355695550111 --offence cyber-stalking \
  --role poster --contact '+355 4 555 0000 (24/7, fictional)'
add_case SI SI-2026-0007 --id "content_sha256:$(printf 'fictional image' | sha256sum | cut -c1-64)" \
  --offence ncii-sharing+minor --role resharer --contact '+386 1 555 0000 (24/7, fictional)'

bold "4. Nodes pull each other's blind tag indexes (signed manifests, 8 bytes per identifier)"
for _ in $(seq 1 100); do
  if as_office MK operator peers --json 2>/dev/null | grep -o '"index_count": *[0-9]*' \
      | awk -F: '{s+=$2} END {exit !(s>=8)}'; then break; fi
  sleep 0.2
done
run "cbx peers   # as MK's operator"
as_office MK operator peers | sed 's/^/   /'

bold "5. A prosecutor in Skopje asks every peer about one account and one phone number"
run "cbx query --id telegram_username:t.me/Balkan_Room_Admin --id 'phone:+381 64 555 0101' --case MK-2026-0142 ..."
as_office MK prosecutor query --id telegram_username:t.me/Balkan_Room_Admin \
  --id 'phone:+381 64 555 0101' --case MK-2026-0142 \
  --legal-basis 'Art. 18 Convention on Mutual Assistance in Criminal Matters' \
  --offence ncii-sharing | sed 's/^/   /'
say "Each peer blinded-evaluated the identifiers with its OPRF key and proved it (DLEQ);"
say "MK checked every proof, tested its copy of that peer's index, and resolved the hits."

bold "6. The signed case references MK received"
run "cbx hits --case MK-2026-0142"
as_office MK prosecutor hits --case MK-2026-0142 | sed 's/^/   /'

bold "7. A seized phone's 1,500 contacts, checked in bulk from a file"
{
  echo "# contacts exported from a seized phone (fictional)"
  for i in $(seq 100000 101499); do
    if [ "$i" = 100841 ]; then echo "phone:+355 69 555 0111"; else echo "phone:+38970$i"; fi
  done
} > "$RUN/contacts.txt"
run "cbx query --ids-file contacts.txt --case MK-2026-0142 ...   # one identifier a line"
as_office MK prosecutor query --ids-file "$RUN/contacts.txt" --case MK-2026-0142 \
  --legal-basis 'Art. 18 Convention on Mutual Assistance in Criminal Matters' \
  --offence ncii-sharing | sed 's/^/   /'
say "The file was checked whole before anything was sent, then asked as queries of"
say "at most 1024; each hit names its line, and misses are counted, not listed."

bold "8. The other side: Belgrade and Sarajevo were told who asked, and why"
for cc in RS BA; do
  run "cbx inbox   # as $(office_name "$cc")"
  as_office "$cc" prosecutor inbox | sed 's/^/   /'
done
say "The five peers that missed learned only that MK asked about two identifiers, and why."

bold "9. After the hit: Skopje asks Belgrade to preserve the account's data, with a deadline"
json_field() { python3 -c "$1" 2>/dev/null; }
token=$(as_office MK prosecutor hits --case MK-2026-0142 --json | json_field '
import json, sys
print(next(h["reference"]["case_token"] for h in json.load(sys.stdin)["hits"] if h["member"] == "RS"))')
run "cbx request send --token ${token:0:8}... --case MK-2026-0142 --type preservation ..."
as_office MK prosecutor request send --token "$token" --case MK-2026-0142 \
  --type preservation --legal-basis 'Budapest Convention, Arts. 29 and 35' \
  --platform telegram --account telegram_username:balkan_room_admin \
  --from 2025-03-01 --to 2026-02-28 --data subscriber,traffic | sed 's/^/   /'
say "Belgrade's node checked that it gave MK this case token, logged the request and"
say "returned a signed receipt at once; the deadline comes from the directory's policy."
run "cbx request list   # as $(office_name RS)"
as_office RS prosecutor request list | sed 's/^/   /'
request_id=$(as_office RS prosecutor request list --json | json_field '
import json, sys
print(json.load(sys.stdin)["requests"][0]["id"])')
run "cbx respond ${request_id:0:8}... --outcome done --preserved-until 2027-06-30   # as $(office_name RS)"
as_office RS prosecutor respond "$request_id" --outcome done \
  --preserved-until 2027-06-30 | sed 's/^/   /'
run "cbx request show ${request_id:0:8}...   # as $(office_name MK)"
as_office MK prosecutor request show "$request_id" | sed 's/^/   /'

bold "10. A standing watch: Skopje keeps a phone number under watch; Zagreb registers it later"
run "cbx watch add --id 'phone:+385 91 555 0199' --case MK-2026-0142 --days 30 ..."
as_office MK prosecutor watch add --id 'phone:+385 91 555 0199' --case MK-2026-0142 \
  --legal-basis 'Art. 18 Convention on Mutual Assistance in Criminal Matters' \
  --offence ncii-sharing --days 30 | sed 's/^/   /'
say "MK's node keeps each peer's blind output for the number, never the number itself."
add_case HR HR-KO-2026-0400 --id 'phone:+385 91 555 0199' --offence cyber-stalking \
  --role poster --contact '+385 1 555 0000 (24/7, fictional)'
for _ in $(seq 1 150); do
  if as_office MK prosecutor hits --json 2>/dev/null | grep -q '"watch_id"'; then break; fi
  sleep 0.2
done
run "cbx hits   # Zagreb's new case, found by the watch at HR's next index version"
as_office MK prosecutor hits | sed 's/^/   /'

bold "11. Sarajevo closes its case: Skopje's hit is withdrawn, with a signed deletion receipt"
run "cbx hits   # before: Sarajevo's reference as Skopje received it"
as_office MK prosecutor hits | sed 's/^/   /'
run "cbx case close BA-T09-2026-0042   # as Sarajevo's office"
as_office BA prosecutor case close BA-T09-2026-0042 | sed 's/^/   /'
say "BA's node sends a signed withdrawal to every member that resolved the case;"
say "MK's node marks the hit withdrawn, deletes the reference and answers with a receipt."
for _ in $(seq 1 150); do
  if as_office MK prosecutor hits --withdrawn --json 2>/dev/null | grep -q '"withdrawn_at"'; then break; fi
  sleep 0.2
done
run "cbx hits   # after: Sarajevo's reference is gone"
as_office MK prosecutor hits | sed 's/^/   /'
run "cbx hits --withdrawn --wide   # its status and date; only the case token is kept"
as_office MK prosecutor --wide hits --withdrawn | sed 's/^/   /'
run "grep withdrawal-acknowledged BA/node.log"
grep -h 'withdrawal-acknowledged' "$RUN/BA/node.log" | sed 's/^/   /' || true

bold "12. Refused requests, each with its reason"
run "cbx query ...   # with MK's auditor certificate"
as_office MK auditor query --id telegram_username:balkan_room_admin --case MK-2026-0142 \
  --legal-basis test --offence ncii-sharing 2>&1 | sed 's/^/   /' || true
run "cbx query ... --case RS-KT-2026-0117   # not a case of this office"
as_office MK prosecutor query --id telegram_username:balkan_room_admin --case RS-KT-2026-0117 \
  --legal-basis test --offence ncii-sharing 2>&1 | sed 's/^/   /' || true
run "cbx query --id 'phone:070 123 456' ...   # no country code"
as_office MK prosecutor query --id 'phone:070 123 456' --case MK-2026-0142 \
  --legal-basis test --offence ncii-sharing 2>&1 | sed 's/^/   /' || true

bold "13. An auditor verifies both sides from signed logs alone, recomputes the month's report, and reconciles them"
say "Every exchange above was logged by both nodes before it was answered; peers cosign"
say "each other's checkpoints. The auditor pins the genesis directory, nothing else."
AUDIT=(--genesis "$RUN/genesis.pb" --state "$RUN/auditor-state")
month=$(date -u +%Y-%m)
run "cbx report --month $month   # as MK's auditor: this month's signed report"
as_office MK auditor report --month "$month" | sed 's/^/   /'
as_office MK auditor report --month "$month" --json > "$RUN/report-MK.json"
as_office MK auditor report --month "$month" --html "$RUN/report-MK.html" >/dev/null
say "Aggregates only, from MK's audit entries of $month; small counts are shown as <5."
say "The same report as one self-contained page with charts: demo-run/report-MK.html"
for cc in MK RS; do
  for _ in $(seq 1 50); do
    # Wait for a witnessed checkpoint that covers the query.
    if as_office "$cc" auditor audit checkpoint --genesis "$RUN/genesis.pb" --json 2>/dev/null \
        | grep -q '"witnessed": *true'; then break; fi
    sleep 0.3
  done
done
sleep 2.5
for cc in MK RS; do
  run "cbx audit verify --genesis genesis.pb   # as $cc's auditor"
  as_office "$cc" auditor audit verify "${AUDIT[@]}" | sed 's/^/   /'
  run "cbx audit export --out audit-$cc.json"
  as_office "$cc" auditor audit export --genesis "$RUN/genesis.pb" \
    --out "$RUN/audit-$cc.json" | sed 's/^/   /'
done
run "cbx audit report --export audit-MK.json --month $month --signed report-MK.json   # offline"
"$CBX" audit report --export "$RUN/audit-MK.json" --month "$month" \
  --signed "$RUN/report-MK.json" --genesis "$RUN/genesis.pb" | sed 's/^/   /'
say "The auditor recomputed every figure from the verified export: equal to the signed report."
run "cbx audit reconcile audit-MK.json audit-RS.json   # offline"
"$CBX" audit reconcile "$RUN/audit-MK.json" "$RUN/audit-RS.json" \
  --genesis "$RUN/genesis.pb" | sed 's/^/   /' || true

bold "14. Stopping every node (SIGTERM: each drains its calls and stops)"
stop_all
trap - EXIT
say "All nodes stopped. Files, keys and logs: demo-run/"
# Where to look next: the same cases in a browser (README "Guides"). The
# demo itself needs no browser.
console_port=$(sed -n 's/.*"console_listen": *"[^:]*:\([0-9]*\)".*/\1/p' "$RUN/MK/node.json")
mk_cert=$(office_cert MK prosecutor)
say "Next, the web console: start MK's node again"
say "  ${NODE#"$ROOT"/} --config ${RUN#"$ROOT"/}/MK/node.json ${ALLOW_ROOT[*]}"
say "install in the browser Skopje's office certificate and its CA:"
mk_key=${mk_cert%.crt}.key
say "  openssl pkcs12 -export -in ${mk_cert#"$ROOT"/} -inkey ${mk_key#"$ROOT"/} -out skopje.p12"
say "  (import skopje.p12, and ${RUN#"$ROOT"/}/MK/ca.crt as a CA for websites)"
say "and open https://localhost:$console_port/"
bold "Done: one query, eight countries, two hits with signed case references, a bulk check of 1,500 contacts that found a third, a preservation request answered, a watch that hit, a withdrawal acknowledged, no data pooled."
