#!/usr/bin/env bash
# Makes the throw-away PKI of the cbx CLI's end-to-end test in DIR:
#   ca.pem / ca.key            the national CA (self-signed)
#   server.pem / server.key    the node's Office port: DNS:localhost, IP:127.0.0.1
#   office.pem / office.key    spiffe://cbx/office/MK/PPO-Skopje/prosecutor
#   auditor.pem / auditor.key  spiffe://cbx/office/MK/DZLP/auditor
#   other-ca.pem               an unrelated CA (the node's certificate does
#                              not verify against it)
#   stranger.pem / .key        an office certificate issued by other-ca (the
#                              node refuses it)
# P-256 keys, valid for two days. For tests only: never deploy these.
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() {  # ca NAME SUBJECT
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() {  # leaf NAME SUBJECT SAN EKU [ISSUER]
  local issuer=${5:-ca}
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$4" "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$issuer.pem" -CAkey "$issuer.key" -CAcreateserial \
    -out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "/C=MK/O=cbx test/CN=cbx test national CA"
ca other-ca "/C=MK/O=cbx test/CN=unrelated CA"
leaf server "/C=MK/O=cbx test/CN=cbx-node" "DNS:localhost,IP:127.0.0.1" serverAuth
leaf office "/C=MK/O=PPO-Skopje/CN=prosecutor" \
  "URI:spiffe://cbx/office/MK/PPO-Skopje/prosecutor" clientAuth
leaf auditor "/C=MK/O=DZLP/CN=auditor" \
  "URI:spiffe://cbx/office/MK/DZLP/auditor" clientAuth
leaf stranger "/C=MK/O=PPO-Skopje/CN=prosecutor" \
  "URI:spiffe://cbx/office/MK/PPO-Skopje/prosecutor" clientAuth other-ca
chmod 600 ./*.key
