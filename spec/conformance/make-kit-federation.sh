#!/usr/bin/env bash
# Makes the cbx conformance kit's federation (spec/conformance/README.md):
# five members QT (the node under test), QA, QB (the runner's peers), QS
# (suspended) and QQ (whose quotas the quota cases spend), every private key
# published, certificates valid 20 years, and a genesis signed by QA, QB and
# QQ. Also the deliberately wrong certificates of federation/bad/.
#
# The kit ships the output (spec/conformance/federation/); run this only to
# remake it (a new kit federation: every vendor must then take the new one).
#
# Usage: make-kit-federation.sh OUT_DIR CBX_ADMIN
set -euo pipefail

out="${1:?usage: $0 OUT_DIR CBX_ADMIN}"
admin="$(realpath "${2:?usage: $0 OUT_DIR CBX_ADMIN}")"
[[ ! -e "$out" ]] || { echo "$out exists; remove it first" >&2; exit 1; }
mkdir -p "$out/bad"
readonly DAYS=7300
readonly MEMBERS="QT QA QB QS QQ"

cnf="$out/.openssl.cnf"
cat >"$cnf" <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $ENV::CBX_EKU
subjectAltName = $ENV::CBX_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
export CBX_EKU="" CBX_SAN=""

new_ca() {  # DIR SUBJECT
  openssl req -x509 -config "$cnf" -extensions ca -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$1/ca.key" -subj "$2" \
    -days "$DAYS" -sha256 -out "$1/ca.crt" 2>/dev/null
}

issue() {  # CA_DIR NAME SUBJECT SAN EKU
  CBX_SAN="$4" CBX_EKU="$5" openssl req -x509 -config "$cnf" -extensions leaf \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$2.key" \
    -CA "$1/ca.crt" -CAkey "$1/ca.key" -subj "$3" -days "$DAYS" -sha256 \
    -out "$2.crt" 2>/dev/null
}

declare -A node_pub=() oprf_pub=() gov_pub=()
for cc in $MEMBERS; do
  dir="$out/$cc"
  mkdir -p "$dir"
  new_ca "$dir" "/C=$cc/O=cbx conformance kit/CN=cbx kit CA $cc"
  issue "$dir" "$dir/node" "/C=$cc/O=cbx conformance kit/CN=cbx-node $cc" \
    "URI:spiffe://cbx/member/$cc,DNS:localhost,IP:127.0.0.1" \
    "serverAuth, clientAuth"
  node_pub[$cc]="$("$admin" key generate --kind node --out "$dir/node-signing.key")"
  oprf_pub[$cc]="$("$admin" key generate --kind oprf --out "$dir/oprf.key")"
  gov_pub[$cc]="$("$admin" key generate --kind governance --out "$dir/governance.key")"
done
# QA also lists a second node key whose window closed when the genesis was
# issued: an envelope signed with it fails check 2 (errors.md E9).
qa_expired="$("$admin" key generate --kind node --out "$out/QA/node-signing-expired.key")"

# The node under test's offices: the runner seeds the kit case as the
# prosecutor and calls the audit RPCs as the auditor.
mkdir -p "$out/QT/offices"
for role in prosecutor auditor operator; do
  issue "$out/QT" "$out/QT/offices/Kit-Office-$role" \
    "/C=QT/O=cbx conformance kit/OU=Kit-Office/CN=Kit-Office $role" \
    "URI:spiffe://cbx/office/QT/Kit-Office/$role" "clientAuth"
done

# Certificates the node under test must refuse (spec/errors.md §4, keys.md
# §2.1, office-api.md §2). All but foreign.crt chain to a member's CA.
leaf() { issue "$out/$1" "$out/bad/$2" "/C=QA/O=cbx conformance kit/CN=$2" "$3" "serverAuth, clientAuth"; }
leaf QA qa-names-qz "URI:spiffe://cbx/member/QZ"
leaf QA qa-names-qb "URI:spiffe://cbx/member/QB"
leaf QA qa-and-qb "URI:spiffe://cbx/member/QA,URI:spiffe://cbx/member/QB"
leaf QA qa-uri-twice "URI:spiffe://cbx/member/QA,URI:spiffe://cbx/member/QA"
leaf QA qa-extra-uri "URI:spiffe://cbx/member/QA,URI:https://kit.example/qa"
leaf QA qa-no-uri "DNS:qa.kit.example"
issue "$out/QT" "$out/bad/qt-office-for-qa" \
  "/C=QA/O=cbx conformance kit/CN=office for QA" \
  "URI:spiffe://cbx/office/QA/Kit-Office/auditor" "clientAuth"
mkdir -p "$out/bad/foreign-ca"
new_ca "$out/bad/foreign-ca" "/C=QZ/O=not a member/CN=foreign CA"
issue "$out/bad/foreign-ca" "$out/bad/foreign" "/C=QA/O=not a member/CN=foreign" \
  "URI:spiffe://cbx/member/QA" "serverAuth, clientAuth"

codes=($MEMBERS)
{
  echo '{'
  echo '  "federation": "cbx-conformance-kit",'
  echo '  "version": 1,'
  echo '  "issued_at_ms": 1796428800000,'
  echo '  "policy": {'
  echo '    "governance_threshold": 3,'
  echo '    "max_message_lifetime_s": 300,'
  echo '    "max_clock_skew_s": 60,'
  echo '    "evaluations_per_peer_per_day": 20000,'
  echo '    "peer_deadline_ms": 3000,'
  echo '    "witness_threshold": 1,'
  echo '    "resolves_per_peer_per_day": 2048'
  echo '  },'
  echo '  "members": ['
  for i in "${!codes[@]}"; do
    cc="${codes[$i]}"
    status=active
    [[ $cc == QS ]] && status=suspended
    sep=","
    [[ $i -eq $((${#codes[@]} - 1)) ]] && sep=""
    echo "    {"
    echo "      \"code\": \"$cc\","
    echo "      \"display_name\": \"cbx conformance kit member $cc\","
    echo "      \"endpoint\": \"localhost:$((7441 + i))\","
    echo "      \"ca_certificate\": \"$cc/ca.crt\","
    if [[ $cc == QA ]]; then
      echo "      \"node_keys\": ["
      echo "        {\"public_key\": \"${node_pub[$cc]}\"},"
      echo "        {\"public_key\": \"$qa_expired\", \"not_before_ms\": 1, \"not_after_ms\": 1796428800000}"
      echo "      ],"
    else
      echo "      \"node_signing_key_public\": \"${node_pub[$cc]}\","
    fi
    echo "      \"oprf_key_public\": \"${oprf_pub[$cc]}\","
    echo "      \"oprf_epoch\": 1,"
    echo "      \"governance_key_public\": \"${gov_pub[$cc]}\","
    echo "      \"status\": \"$status\""
    echo "    }$sep"
  done
  echo '  ]'
  echo '}'
} >"$out/federation.json"

(cd "$out" && "$admin" directory build --spec federation.json --out genesis.pb >/dev/null)
for cc in QA QB QQ; do
  "$admin" directory sign --in "$out/genesis.pb" --member "$cc" \
    --key "$out/$cc/governance.key" --out "$out/genesis.pb" >/dev/null
done
"$admin" directory verify --genesis "$out/genesis.pb" >/dev/null
rm -f "$cnf"
# Git keeps no file modes: whoever runs a node from these files copies them
# and makes the key files 0600 first (the node refuses looser ones).
chmod 644 "$out"/*/*.key "$out"/*/offices/*.key "$out"/bad/*.key "$out"/bad/*/*.key
echo "kit federation in $out"
