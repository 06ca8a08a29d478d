#!/usr/bin/env bash
# End-to-end test of the cbx-admin binary: generate -> build -> sign (k of n)
# -> verify, an update co-signed with --previous, and the refusals.
# Usage: cli_test.sh PATH_TO_cbx-admin TESTDATA_DIR
set -euo pipefail

admin="$1"
testdata="$2"
work="$(mktemp -d "${TMPDIR:-/tmp}/cbx-admin-cli-test.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
cd "$work"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_fail CODE PATTERN CMD...: CMD exits with CODE and its stderr
# contains PATTERN.
expect_fail() {
  local code="$1" pattern="$2" rc=0
  shift 2
  "$@" >out.txt 2>err.txt || rc=$?
  [[ $rc -eq $code ]] || fail "$* exited $rc, expected $code; stderr: $(cat err.txt)"
  grep -qF -- "$pattern" err.txt || fail "$*: stderr lacks \"$pattern\": $(cat err.txt)"
}

# Keys for three members.
for cc in MK RS BA; do
  pub="$("$admin" key generate --kind node --out "$cc-node.key")"
  [[ "$pub" =~ ^[0-9a-f]{64}$ ]] || fail "node public key \"$pub\""
  pub="$("$admin" key generate --kind oprf --out "$cc-oprf.key")"
  [[ "$pub" =~ ^0[23][0-9a-f]{64}$ ]] || fail "oprf public key \"$pub\""
  gov="$("$admin" key generate --kind governance --out "$cc-gov.key")"
  [[ "$gov" == "$("$admin" key public --kind governance --in "$cc-gov.key")" ]] ||
    fail "key public differs from key generate"
  for f in "$cc-node.key" "$cc-oprf.key" "$cc-gov.key"; do
    [[ "$(stat -c %a "$f")" == 600 ]] || fail "$f has mode $(stat -c %a "$f")"
    [[ "$(wc -c <"$f")" -eq 65 ]] || fail "$f is not 64 hex digits and a newline"
  done
done
before="$(cat MK-gov.key)"
expect_fail 1 "already exists" "$admin" key generate --kind governance --out MK-gov.key
[[ "$(cat MK-gov.key)" == "$before" ]] || fail "an existing key was overwritten"
"$admin" key public --kind node --in MK-node.key --json | grep -q '"key_id"' ||
  fail "key public --json has no key_id"
expect_fail 1 "not a oprf key file" "$admin" key public --kind oprf --in /dev/null

# The spec: key files relative to it, the test CA for everyone.
cp "$testdata/test-ca.crt" ca.crt
member() {
  cat <<JSON
    {"code": "$1", "display_name": "Prosecution $1", "endpoint": "localhost:$2",
     "ca_certificate": "ca.crt", "node_signing_key": "$1-node.key",
     "oprf_key": "$1-oprf.key", "governance_key": "$1-gov.key"}
JSON
}
spec() {  # VERSION
  cat <<JSON
{"federation": "cbx-cli-test", "version": $1,
 "policy": {"governance_threshold": 2},
 "members": [
$(member MK 7101),
$(member RS 7102),
$(member BA 7103)
 ]}
JSON
}
spec 1 >federation.json
"$admin" directory build --spec federation.json --out genesis.pb | grep -q "needs 2 governance signatures" ||
  fail "build output"

expect_fail 1 "need 2" "$admin" directory verify --genesis genesis.pb
"$admin" directory sign --in genesis.pb --member MK --key MK-gov.key --out genesis.pb |
  grep -q "1 of 2 signatures" || fail "sign output"
expect_fail 1 "not RS's governance key" \
  "$admin" directory sign --in genesis.pb --member RS --key MK-gov.key --out genesis.pb
expect_fail 1 "already" \
  "$admin" directory sign --in genesis.pb --member MK --key MK-gov.key --out genesis.pb
expect_fail 1 "need 2" "$admin" directory verify --genesis genesis.pb
"$admin" directory sign --in genesis.pb --member RS --key RS-gov.key --out genesis.pb |
  grep -q "threshold reached" || fail "sign output at threshold"
"$admin" directory verify --genesis genesis.pb >out.txt || fail "verify: $(cat out.txt)"
grep -q "chain verified: current version 1" out.txt || fail "verify output: $(cat out.txt)"
"$admin" directory verify --genesis genesis.pb --json | grep -q '"ok": true' || fail "verify --json"
"$admin" directory show --in genesis.pb --json >show.json
grep -q '"endpoint": "localhost:7103"' show.json || fail "show --json"
"$admin" directory show --in genesis.pb | grep -q "signatures: 2 valid of 2 needed" || fail "show"
# The digest operators compare when they pin the genesis.
digest="$(sha256sum genesis.pb | cut -d' ' -f1)"
"$admin" directory show --in genesis.pb | grep -q "file sha256 $digest" || fail "show: file sha256"
"$admin" directory verify --genesis genesis.pb | grep -q "file sha256 $digest" || fail "verify: file sha256"

# An update: version 2 suspends BA; signed with version 1's keys.
spec 2 | sed 's/"governance_key": "BA-gov.key"}/"governance_key": "BA-gov.key", "status": "suspended"}/' >v2.json
expect_fail 1 "does not follow version 1" \
  "$admin" directory build --spec federation.json --out v2.pb --previous genesis.pb
"$admin" directory build --spec v2.json --out v2.pb --previous genesis.pb >/dev/null
expect_fail 1 "pass --previous" \
  "$admin" directory sign --in v2.pb --member MK --key MK-gov.key --out v2.pb
expect_fail 1 "is version 2, but the directory being signed is version 2" \
  "$admin" directory sign --in v2.pb --member MK --key MK-gov.key --out v2.pb --previous v2.pb
"$admin" directory sign --in v2.pb --member MK --key MK-gov.key --out v2.pb --previous genesis.pb >/dev/null
expect_fail 1 "need 2" "$admin" directory verify --genesis genesis.pb --update v2.pb
"$admin" directory sign --in v2.pb --member BA --key BA-gov.key --out v2-signed.pb --previous genesis.pb >/dev/null
"$admin" directory verify --genesis genesis.pb --update v2-signed.pb >out.txt || fail "verify update: $(cat out.txt)"
grep -q "chain verified: current version 2" out.txt || fail "verify update output"
"$admin" directory show --in v2-signed.pb --json | grep -q '"status": "suspended"' || fail "show v2"
# Versions never go back, and an update is not a genesis.
expect_fail 1 "never go back" "$admin" directory verify --genesis genesis.pb --update v2-signed.pb --update genesis.pb
expect_fail 1 "version 1" "$admin" directory verify --genesis v2-signed.pb

# The governance workflow: propose from a change file, cosign offline into
# one file per holder, combine with the k-of-n checks (docs/governance.md).
cat >v2-changes.json <<'JSON'
{"changes": [{"suspend": "BA"}, {"policy": {"max_message_lifetime_s": 600}}]}
JSON
"$admin" directory propose --current genesis.pb --changes v2-changes.json --out v2-proposal.pb >out.txt
grep -qF "~ BA status: active -> suspended" out.txt || fail "propose diff: $(cat out.txt)"
grep -qF "~ policy.max_message_lifetime_s: 300 -> 600" out.txt || fail "propose diff: $(cat out.txt)"
expect_fail 1 "no member XK" "$admin" directory propose --current genesis.pb \
  --changes <(echo '{"changes": [{"suspend": "XK"}]}') --out bad.pb
"$admin" directory cosign --in v2-proposal.pb --previous genesis.pb --member MK --key MK-gov.key --out MK.sig >/dev/null
"$admin" directory cosign --in v2-proposal.pb --previous genesis.pb --member RS --key RS-gov.key --out RS.sig >/dev/null
expect_fail 1 "File exists" "$admin" directory cosign --in v2-proposal.pb --previous genesis.pb \
  --member RS --key RS-gov.key --out MK.sig
expect_fail 1 "not BA's governance key" "$admin" directory cosign --in v2-proposal.pb --previous genesis.pb \
  --member BA --key MK-gov.key --out BA.sig
expect_fail 1 "a second signature of MK" "$admin" directory combine --in v2-proposal.pb --previous genesis.pb \
  --signature MK.sig --signature MK.sig --out v2c.pb
sed 's/"member": "RS"/"member": "BA"/' RS.sig >BA-wrong.sig
expect_fail 1 "does not verify with BA's governance key" "$admin" directory combine --in v2-proposal.pb \
  --previous genesis.pb --signature MK.sig --signature BA-wrong.sig --out v2c.pb
sed 's/"member": "RS"/"member": "XK"/' RS.sig >XK.sig
expect_fail 1 "XK is not a member of version 1" "$admin" directory combine --in v2-proposal.pb \
  --previous genesis.pb --signature MK.sig --signature XK.sig --out v2c.pb
expect_fail 1 "only 1 valid signature(s) of the 2 of 3 needed" "$admin" directory combine --in v2-proposal.pb \
  --previous genesis.pb --signature MK.sig --out v2c.pb
"$admin" directory propose --current genesis.pb --changes <(echo '{"changes": [{"suspend": "RS"}]}') \
  --out other.pb >/dev/null
"$admin" directory cosign --in other.pb --previous genesis.pb --member BA --key BA-gov.key --out BA-other.sig >/dev/null
expect_fail 1 "BA signed other bytes" "$admin" directory combine --in v2-proposal.pb \
  --previous genesis.pb --signature MK.sig --signature BA-other.sig --out v2c.pb
[[ ! -e v2c.pb ]] || fail "a refused combine wrote its output"
"$admin" directory combine --in v2-proposal.pb --previous genesis.pb --signature MK.sig --signature RS.sig \
  --out v2c.pb | grep -qF "2 valid governance signatures, 2 of 3 needed" || fail "combine output"
"$admin" directory verify --genesis genesis.pb --update v2c.pb >/dev/null || fail "combined v2 does not verify"

# Spec errors name the field.
sed 's/, "endpoint": "localhost:7102",/,/' federation.json >bad.json
expect_fail 1 "members[1].endpoint: missing" "$admin" directory build --spec bad.json --out bad.pb
[[ ! -e bad.pb ]] || fail "a failed build wrote its output"

# Usage errors.
expect_fail 2 "kind" "$admin" key generate --kind tls --out x.key
expect_fail 2 "--out" "$admin" key generate --kind node
expect_fail 1 "not a serialized cbx.v1.SignedDirectory" "$admin" directory show --in federation.json

echo "PASS"
