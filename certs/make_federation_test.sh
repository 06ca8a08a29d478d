#!/usr/bin/env bash
# Test of make-federation.sh: a three-country federation, checked with the
# openssl CLI (chains, SANs, key usages, permissions) and cbx-admin (the
# genesis verifies), and the script's refusals.
# Usage: make_federation_test.sh PATH_TO_make-federation.sh PATH_TO_cbx-admin
set -euo pipefail

script="$1"
admin="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/cbx-make-federation-test.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
out="$work/fed"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

bash "$script" "$out" --countries MK,RS,XK --base-port 17100 --admin "$admin" >"$work/summary.txt" ||
  fail "make-federation.sh failed"
grep -q "signed by MK RS (2 of 3 needed for updates), verified" "$work/summary.txt" ||
  fail "summary: $(cat "$work/summary.txt")"

san() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
eku() { openssl x509 -in "$1" -noout -ext extendedKeyUsage | tail -n +2 | sed 's/^ *//'; }
mode() { stat -c %a "$1"; }

i=0
for cc in MK RS XK; do
  d="$out/$cc"
  for f in ca.crt ca.key node.crt node.key node-signing.key governance.key oprf.key node.json; do
    [[ -f "$d/$f" ]] || fail "$d/$f missing"
  done
  for f in ca.key node.key node-signing.key governance.key oprf.key; do
    [[ "$(mode "$d/$f")" == 600 ]] || fail "$d/$f has mode $(mode "$d/$f")"
  done

  # The national CA.
  openssl x509 -in "$d/ca.crt" -noout -ext basicConstraints | grep -q "CA:TRUE" ||
    fail "$cc CA is not a CA"
  openssl x509 -in "$d/ca.crt" -noout -subject | grep -q "C = $cc" || fail "$cc CA subject"
  openssl pkey -in "$d/ca.key" -noout -text 2>/dev/null | grep -q "P-256" || fail "$cc CA key is not P-256"

  # The node certificate: chains to its own CA only, names the member.
  openssl verify -x509_strict -purpose sslserver -CAfile "$d/ca.crt" "$d/node.crt" >/dev/null ||
    fail "$cc node.crt does not verify as a server certificate"
  openssl verify -x509_strict -purpose sslclient -CAfile "$d/ca.crt" "$d/node.crt" >/dev/null ||
    fail "$cc node.crt does not verify as a client certificate"
  for other in MK RS XK; do
    [[ $other == "$cc" ]] && continue
    if openssl verify -CAfile "$out/$other/ca.crt" "$d/node.crt" >/dev/null 2>&1; then
      fail "$cc node.crt verifies under $other's CA"
    fi
  done
  [[ "$(san "$d/node.crt")" == "URI:spiffe://cbx/member/$cc,DNS:localhost,IPAddress:127.0.0.1" ]] ||
    fail "$cc node.crt SAN: $(san "$d/node.crt")"
  [[ "$(eku "$d/node.crt")" == "TLS Web Server Authentication, TLS Web Client Authentication" ]] ||
    fail "$cc node.crt EKU: $(eku "$d/node.crt")"
  # The node key is the certificate's key.
  [[ "$(openssl pkey -in "$d/node.key" -pubout)" == "$(openssl x509 -in "$d/node.crt" -noout -pubkey)" ]] ||
    fail "$cc node.key does not match node.crt"

  # Offices: two per country, three roles each, client certificates only.
  count=0
  for crt in "$d"/offices/*.crt; do
    base="$(basename "$crt" .crt)"
    role="${base##*-}"
    office="${base%-*}"
    [[ "$role" =~ ^(prosecutor|auditor|operator)$ ]] || fail "$crt: unexpected role $role"
    [[ "$office" =~ ^[A-Za-z0-9-]+$ ]] || fail "$crt: office name $office is not ASCII without spaces"
    [[ "$(san "$crt")" == "URI:spiffe://cbx/office/$cc/$office/$role" ]] ||
      fail "$crt SAN: $(san "$crt")"
    [[ "$(eku "$crt")" == "TLS Web Client Authentication" ]] || fail "$crt EKU: $(eku "$crt")"
    openssl verify -x509_strict -purpose sslclient -CAfile "$d/ca.crt" "$crt" >/dev/null ||
      fail "$crt does not verify"
    if openssl verify -purpose sslserver -CAfile "$d/ca.crt" "$crt" >/dev/null 2>&1; then
      fail "$crt is accepted as a server certificate"
    fi
    [[ "$(mode "${crt%.crt}.key")" == 600 ]] || fail "${crt%.crt}.key mode"
    count=$((count + 1))
  done
  [[ $count -eq 6 ]] || fail "$cc has $count office certificates, expected 6"

  # The node config, exactly as cbx-node expects it.
  expected="$(cat <<JSON
{
  "member": "$cc",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:$((17101 + i))",
  "office_listen": "127.0.0.1:$((17201 + i))",
  "admin_listen": "127.0.0.1:$((17301 + i))",
  "console_listen": "127.0.0.1:$((17401 + i))",
  "tls": {"certificate": "node.crt", "private_key": "node.key", "office_ca": "ca.crt"},
  "keys": {"node_signing_key": "node-signing.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "../genesis.pb"},
  "sync": {"index_interval_ms": 2000, "directory_interval_ms": 10000}
}
JSON
)"
  [[ "$(cat "$d/node.json")" == "$expected" ]] || fail "$cc/node.json: $(cat "$d/node.json")"
  i=$((i + 1))
done

# The genesis verifies and lists what the files hold.
"$admin" directory verify --genesis "$out/genesis.pb" >"$work/verify.txt" ||
  fail "genesis does not verify: $(cat "$work/verify.txt")"
"$admin" directory show --in "$out/genesis.pb" --json >"$work/show.json"
for cc in MK RS XK; do
  gov="$("$admin" key public --kind governance --in "$out/$cc/governance.key")"
  node="$("$admin" key public --kind node --in "$out/$cc/node-signing.key")"
  oprf="$("$admin" key public --kind oprf --in "$out/$cc/oprf.key")"
  for want in "\"governance_key\": \"$gov\"" "\"public_key\": \"$node\"" "\"public_key\": \"$oprf\""; do
    grep -qF "$want" "$work/show.json" || fail "genesis lacks $cc's $want"
  done
  fp="$(openssl x509 -in "$out/$cc/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)"
  grep -qF "\"sha256\": \"$fp\"" "$work/show.json" || fail "genesis lacks $cc's CA"
done
for want in '"endpoint": "localhost:17101"' '"endpoint": "localhost:17103"' \
  '"governance_threshold": 2' '"witness_threshold": 2' '"max_message_lifetime_s": 300' \
  '"max_clock_skew_s": 60' '"evaluations_per_peer_per_day": 10000' '"peer_deadline_ms": 3000'; do
  grep -qF "$want" "$work/show.json" || fail "genesis lacks $want"
done

# Refusals: a non-empty OUT_DIR without --force leaves it untouched; --force
# replaces it; a folder the script did not make is never replaced.
before="$(cat "$out/MK/governance.key")"
if bash "$script" "$out" --countries MK,RS,XK --admin "$admin" >/dev/null 2>"$work/err.txt"; then
  fail "a non-empty OUT_DIR was accepted"
fi
grep -q "not empty" "$work/err.txt" || fail "refusal message: $(cat "$work/err.txt")"
[[ "$(cat "$out/MK/governance.key")" == "$before" ]] || fail "a refused run changed OUT_DIR"
bash "$script" "$out" --countries MK,RS --threshold 2 --force --admin "$admin" >/dev/null ||
  fail "--force failed"
[[ ! -e "$out/XK" && "$(cat "$out/MK/governance.key")" != "$before" ]] || fail "--force did not replace"
"$admin" directory verify --genesis "$out/genesis.pb" | grep -q "2 of 2" || fail "forced genesis"
mkdir "$work/mine" && touch "$work/mine/notes.txt"
if bash "$script" "$work/mine" --force --admin "$admin" >/dev/null 2>&1; then
  fail "--force replaced a folder the script did not make"
fi
[[ -f "$work/mine/notes.txt" ]] || fail "a foreign folder was touched"
if bash "$script" "$work/bad" --threshold 4 --countries MK,RS,XK --admin "$admin" >/dev/null 2>&1; then
  fail "--threshold above n was accepted"
fi
[[ ! -e "$work/bad" ]] || fail "a failed run left OUT_DIR behind"
[[ -z "$(find "$work" -maxdepth 1 -name '.*staging*')" ]] || fail "a staging folder was left behind"

echo "PASS"
