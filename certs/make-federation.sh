#!/usr/bin/env bash
# Makes a complete demo cbx federation: per country a national CA, a node TLS
# certificate, office client certificates, the node signing, governance and
# OPRF keys, a node config; and the genesis directory signed by K governance
# keys and verified. See certs/README.md.
#
# Needs bash, the openssl CLI (3.x) and cbx-admin. Everything is built in a
# staging folder next to OUT_DIR and moved into place only when complete, so a
# failed run leaves OUT_DIR as it was.
set -euo pipefail

readonly PROG="${0##*/}"

usage() {
  cat <<USAGE
Usage: $PROG OUT_DIR [options]

Creates a demo federation in OUT_DIR (which must not exist or be empty).

Options:
  --countries LIST  comma-separated ISO 3166-1 alpha-2 codes
                    (default MK,RS,BA,HR,ME,AL,XK,SI)
  --base-port N     ports: peer N+1+i, office N+101+i, admin N+201+i and web
                    console N+301+i for the i-th country (default 7100)
  --threshold K     governance signatures needed for a directory update
                    (default: a strict majority, floor(n/2)+1; 5 of 8)
  --admin PATH      the cbx-admin binary (default: \$CBX_ADMIN, then cbx-admin
                    on PATH)
  --person ID       also issue, for each office, a per-person prosecutor
                    certificate offices/<office>-prosecutor-person-ID.crt
                    (URI SAN spiffe://cbx/office/CC/<office>/prosecutor/
                    person/ID; ID an opaque staff identifier, 1-64 of
                    [A-Za-z0-9._-], never a name; spec/cooperation.md §5);
                    may be given more than once
  --force           replace an OUT_DIR made earlier by this script
  -h, --help        this text
USAGE
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# --- arguments ---------------------------------------------------------------

out_dir=""
countries="MK,RS,BA,HR,ME,AL,XK,SI"
base_port=7100
threshold=""
admin="${CBX_ADMIN:-}"
force=0
persons=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    --countries) [[ $# -ge 2 ]] || die "--countries needs a value"; countries="$2"; shift 2 ;;
    --countries=*) countries="${1#*=}"; shift ;;
    --base-port) [[ $# -ge 2 ]] || die "--base-port needs a value"; base_port="$2"; shift 2 ;;
    --base-port=*) base_port="${1#*=}"; shift ;;
    --threshold) [[ $# -ge 2 ]] || die "--threshold needs a value"; threshold="$2"; shift 2 ;;
    --threshold=*) threshold="${1#*=}"; shift ;;
    --admin) [[ $# -ge 2 ]] || die "--admin needs a value"; admin="$2"; shift 2 ;;
    --admin=*) admin="${1#*=}"; shift ;;
    --person) [[ $# -ge 2 ]] || die "--person needs a value"; persons+=("$2"); shift 2 ;;
    --person=*) persons+=("${1#*=}"); shift ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *)
      [[ -z "$out_dir" ]] || die "only one OUT_DIR, got \"$out_dir\" and \"$1\""
      out_dir="$1"; shift ;;
  esac
done
for person in "${persons[@]}"; do
  [[ "$person" =~ ^[A-Za-z0-9._-]{1,64}$ ]] ||
    die "--person $person: give an opaque staff identifier, 1-64 of [A-Za-z0-9._-]"
done

[[ -n "$out_dir" ]] || { usage >&2; exit 2; }

command -v openssl >/dev/null || die "the openssl command-line tool is not installed (apt-get install openssl)"
if [[ -z "$admin" ]]; then
  admin="$(command -v cbx-admin || true)"
fi
[[ -n "$admin" ]] || die "cbx-admin not found: pass --admin PATH (e.g. build/admin/cbx-admin) or set CBX_ADMIN"
[[ -x "$admin" ]] || die "--admin $admin is not an executable"

IFS=',' read -r -a codes <<<"$countries"
n=${#codes[@]}
[[ $n -ge 1 ]] || die "--countries is empty"
declare -A seen=()
for cc in "${codes[@]}"; do
  [[ "$cc" =~ ^[A-Z]{2}$ ]] || die "--countries: \"$cc\" is not an ISO 3166-1 alpha-2 code (two upper-case letters)"
  [[ -z "${seen[$cc]:-}" ]] || die "--countries: $cc is listed twice"
  seen[$cc]=1
done

[[ "$base_port" =~ ^[0-9]+$ ]] || die "--base-port must be a number"
(( base_port >= 1 && base_port + 301 + n - 1 <= 65535 )) ||
  die "--base-port $base_port: ports $((base_port + 1))..$((base_port + 301 + n - 1)) do not fit in 1..65535"

# A strict majority: two different successors of a version can then only both
# collect K signatures if some member signed both, which is provable.
if [[ -z "$threshold" ]]; then
  threshold=$(( n / 2 + 1 ))
fi
if ! [[ "$threshold" =~ ^[0-9]+$ ]] || (( threshold < 1 || threshold > n )); then
  die "--threshold must be between 1 and the $n countries"
fi
# A checkpoint is witnessed when this many peers cosign it; only n-1 can.
witness_threshold=$(( n - 1 < 2 ? n - 1 : 2 ))

# --- the output folder ---------------------------------------------------------

out_dir="${out_dir%/}"
[[ -n "$out_dir" ]] || die "refusing to use / as OUT_DIR"
readonly MARKER=".cbx-demo-federation"
if [[ -e "$out_dir" && ! -d "$out_dir" ]]; then
  die "$out_dir exists and is not a folder"
fi
replace_old=0
if [[ -d "$out_dir" ]] && [[ -n "$(ls -A "$out_dir")" ]]; then
  if [[ $force -eq 0 ]]; then
    die "$out_dir is not empty; pass --force to replace a federation made earlier by $PROG"
  fi
  [[ -f "$out_dir/$MARKER" ]] ||
    die "$out_dir was not made by $PROG (no $MARKER in it); refusing to replace it even with --force"
  replace_old=1
fi

parent="$(dirname -- "$out_dir")"
mkdir -p -- "$parent"
stage="$(mktemp -d "$parent/.$(basename -- "$out_dir").staging.XXXXXX")"
chmod 755 "$stage"  # mktemp makes it 0700; secrets are protected file by file
cleanup() { rm -rf -- "$stage"; }
trap cleanup EXIT

# --- per-country data ------------------------------------------------------------

# Display names and office names are fictional-but-realistic demo values,
# ASCII only; offices follow each country's naming of prosecution offices.
display_name() {
  case "$1" in
    MK) echo "North Macedonia - Public Prosecutor's Office (demo)" ;;
    RS) echo "Serbia - Public Prosecutor's Office (demo)" ;;
    BA) echo "Bosnia and Herzegovina - Prosecutor's Office (demo)" ;;
    HR) echo "Croatia - State Attorney's Office (demo)" ;;
    ME) echo "Montenegro - Supreme State Prosecutor's Office (demo)" ;;
    AL) echo "Albania - General Prosecutor's Office (demo)" ;;
    XK) echo "Kosovo - Office of the Chief Prosecutor (demo)" ;;
    SI) echo "Slovenia - State Prosecutor's Office (demo)" ;;
    *) echo "Member $1 - Prosecution Service (demo)" ;;
  esac
}

offices() {
  case "$1" in
    MK) echo "PPO-Skopje PPO-Bitola" ;;
    RS) echo "VJT-Beograd VJT-NoviSad" ;;
    BA) echo "TBiH-Sarajevo OJT-BanjaLuka" ;;
    HR) echo "ZDO-Zagreb ZDO-Split" ;;
    ME) echo "VDT-Podgorica VDT-BijeloPolje" ;;
    AL) echo "PPSH-Tirane PPSH-Durres" ;;
    XK) echo "PTH-Prishtine PTH-Prizren" ;;
    SI) echo "ODT-Ljubljana ODT-Maribor" ;;
    *) echo "PO-Central-$1 PO-Regional-$1" ;;
  esac
}

readonly ROLES="prosecutor auditor operator"
readonly CA_DAYS=730
readonly LEAF_DAYS=365

# --- openssl helpers -------------------------------------------------------------

# One config for every certificate, independent of the system's openssl.cnf;
# the varying parts come from the environment. `openssl req -x509 -CA` makes
# the key and the CA-signed certificate in one step (a real deployment sends
# a CSR instead: see README.md); the serial number is random.
cnf="$stage/.openssl.cnf"
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

# cbx-admin with a message naming the step if it fails (its own message, on
# stderr, says why).
admin_run() {
  "$admin" "$@" || die "cbx-admin $1 $2 failed (see above)"
}

run_openssl() {
  local log
  if ! log="$(openssl "$@" 2>&1)"; then
    echo "$log" >&2
    die "openssl $1 failed"
  fi
}

# new_ca DIR SUBJECT: DIR/ca.key (EC P-256, 0600) and the self-signed
# DIR/ca.crt, valid CA_DAYS, which may issue end-entity certificates only.
new_ca() {
  (umask 077 && run_openssl req -x509 -config "$cnf" -extensions ca \
    -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$1/ca.key" \
    -subj "$2" -days "$CA_DAYS" -sha256 -out "$1/ca.crt")
  chmod 600 "$1/ca.key"
  chmod 644 "$1/ca.crt"
}

# issue CA_DIR NAME SUBJECT SAN EKU: NAME.key (EC P-256, 0600) and NAME.crt
# issued by CA_DIR's CA, valid LEAF_DAYS.
issue() {
  local ca_dir="$1" name="$2" subject="$3"
  (umask 077 && CBX_SAN="$4" CBX_EKU="$5" run_openssl req -x509 -config "$cnf" \
    -extensions leaf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$name.key" -CA "$ca_dir/ca.crt" -CAkey "$ca_dir/ca.key" \
    -subj "$subject" -days "$LEAF_DAYS" -sha256 -out "$name.crt")
  chmod 600 "$name.key"
  chmod 644 "$name.crt"
}

# --- build ---------------------------------------------------------------------

declare -A node_pub=() oprf_pub=() gov_pub=()

for i in "${!codes[@]}"; do
  cc="${codes[$i]}"
  dir="$stage/$cc"
  mkdir -p "$dir/offices"
  org="$(display_name "$cc")"

  # The national CA: EC P-256, two years, issues only end-entity certificates.
  new_ca "$dir" "/C=$cc/O=$org/CN=cbx demo national CA $cc"

  # The node's TLS identity, for both the server and the client side of
  # peer connections.
  issue "$dir" "$dir/node" "/C=$cc/O=$org/CN=cbx-node $cc" \
    "URI:spiffe://cbx/member/$cc,DNS:localhost,IP:127.0.0.1" \
    "serverAuth, clientAuth"

  # Offices: client certificates naming the office and the role.
  for office in $(offices "$cc"); do
    for role in $ROLES; do
      issue "$dir" "$dir/offices/$office-$role" \
        "/C=$cc/O=$org/OU=$office/CN=$office $role" \
        "URI:spiffe://cbx/office/$cc/$office/$role" "clientAuth"
    done
    # Per-person certificates: the staff identifier in the URI, not the CN.
    for person in "${persons[@]}"; do
      issue "$dir" "$dir/offices/$office-prosecutor-person-$person" \
        "/C=$cc/O=$org/OU=$office/CN=$office prosecutor $person" \
        "URI:spiffe://cbx/office/$cc/$office/prosecutor/person/$person" \
        "clientAuth"
    done
  done

  # Protocol keys.
  node_pub[$cc]="$(admin_run key generate --kind node --out "$dir/node-signing.key")"
  oprf_pub[$cc]="$(admin_run key generate --kind oprf --out "$dir/oprf.key")"
  gov_pub[$cc]="$(admin_run key generate --kind governance --out "$dir/governance.key")"

  # The node's config; paths are relative to the config's folder.
  cat >"$dir/node.json" <<JSON
{
  "member": "$cc",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:$((base_port + 1 + i))",
  "office_listen": "127.0.0.1:$((base_port + 101 + i))",
  "admin_listen": "127.0.0.1:$((base_port + 201 + i))",
  "console_listen": "127.0.0.1:$((base_port + 301 + i))",
  "tls": {"certificate": "node.crt", "private_key": "node.key", "office_ca": "ca.crt"},
  "keys": {"node_signing_key": "node-signing.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "../genesis.pb"},
  "sync": {"index_interval_ms": 2000, "directory_interval_ms": 10000}
}
JSON
done

# Self-check: every leaf chains to its own national CA.
for cc in "${codes[@]}"; do
  run_openssl verify -x509_strict -purpose sslclient -CAfile "$stage/$cc/ca.crt" \
    "$stage/$cc/node.crt" "$stage/$cc"/offices/*.crt
  run_openssl verify -x509_strict -purpose sslserver -CAfile "$stage/$cc/ca.crt" \
    "$stage/$cc/node.crt"
done

# The federation spec: public keys only, as members would exchange them.
{
  echo "{"
  echo "  \"federation\": \"cbx-demo-western-balkans\","
  echo "  \"version\": 1,"
  echo "  \"policy\": {"
  echo "    \"governance_threshold\": $threshold,"
  echo "    \"max_message_lifetime_s\": 300,"
  echo "    \"max_clock_skew_s\": 60,"
  echo "    \"evaluations_per_peer_per_day\": 10000,"
  echo "    \"peer_deadline_ms\": 3000,"
  echo "    \"witness_threshold\": $witness_threshold"
  echo "  },"
  echo "  \"members\": ["
  for i in "${!codes[@]}"; do
    cc="${codes[$i]}"
    sep=","
    [[ $i -eq $((n - 1)) ]] && sep=""
    echo "    {"
    echo "      \"code\": \"$cc\","
    echo "      \"display_name\": \"$(display_name "$cc")\","
    echo "      \"endpoint\": \"localhost:$((base_port + 1 + i))\","
    echo "      \"ca_certificate\": \"$cc/ca.crt\","
    echo "      \"node_signing_key_public\": \"${node_pub[$cc]}\","
    echo "      \"oprf_key_public\": \"${oprf_pub[$cc]}\","
    echo "      \"oprf_epoch\": 1,"
    echo "      \"governance_key_public\": \"${gov_pub[$cc]}\","
    echo "      \"status\": \"active\""
    echo "    }$sep"
  done
  echo "  ]"
  echo "}"
} >"$stage/federation.json"

admin_run directory build --spec "$stage/federation.json" --out "$stage/genesis.pb" >/dev/null
signers=()
for cc in "${codes[@]:0:$threshold}"; do
  admin_run directory sign --in "$stage/genesis.pb" --member "$cc" \
    --key "$stage/$cc/governance.key" --out "$stage/genesis.pb" >/dev/null
  signers+=("$cc")
done
admin_run directory verify --genesis "$stage/genesis.pb" >/dev/null

rm -f "$cnf"
echo "made by $PROG on $(date -u +%Y-%m-%dT%H:%M:%SZ); demo only, not for production" >"$stage/$MARKER"

# --- move into place ---------------------------------------------------------------

if [[ $replace_old -eq 1 ]]; then
  old="$(mktemp -d "$parent/.$(basename -- "$out_dir").old.XXXXXX")"
  mv -- "$out_dir" "$old/previous"
  mv -- "$stage" "$out_dir"
  rm -rf -- "$old"
else
  [[ -d "$out_dir" ]] && rmdir -- "$out_dir"
  mv -- "$stage" "$out_dir"
fi
trap - EXIT

# --- summary -------------------------------------------------------------------

echo "demo federation cbx-demo-western-balkans in $out_dir"
echo "  genesis.pb      version 1, $n members, signed by ${signers[*]} ($threshold of $n needed for updates), verified"
echo "  federation.json the spec it was built from"
printf '  %-3s %-6s %-7s %-7s %s\n' "" peer office admin "offices (prosecutor, auditor, operator certificates)"
for i in "${!codes[@]}"; do
  cc="${codes[$i]}"
  printf '  %-3s %-6s %-7s %-7s %s\n' "$cc" $((base_port + 1 + i)) $((base_port + 101 + i)) \
    $((base_port + 201 + i)) "$(offices "$cc")"
done
echo "per country: ca.crt/ca.key (national CA), node.crt/node.key (TLS),"
echo "  node-signing.key, oprf.key, governance.key, offices/*.crt|key, node.json"
echo "start a node with its config, e.g. $out_dir/${codes[0]}/node.json"
