#!/usr/bin/env bash
# Installs the Debian 12 packages cbx needs to build, test and run its demo.
# Idempotent: asks apt only for what is missing, so a second run is quick.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev openssl libabsl-dev libboost1.74-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 nlohmann-json3-dev libcli11-dev
  python3 python3-h2  # tests/integration/h2_abuse.py (HTTP/2 abuse tests)
  # Keys in a PKCS#11 token (core/crypto/pkcs11_signer.h): the OASIS header
  # from p11-kit; softhsm2 and opensc's pkcs11-tool for the token tests.
  libp11-kit-dev softhsm2 opensc
  # `make package` and its install test (tests/package/): dpkg-shlibdeps,
  # lintian, a clean Debian 12 root, systemd-analyze for the unit, and
  # systemd-nspawn to boot that root with systemd as PID 1.
  dpkg-dev lintian debootstrap systemd systemd-container
  # Monitoring (tests/integration/metrics_test.cc, docs/prometheus/): a real
  # Prometheus server and promtool. Debian may start its own prometheus
  # service on install; the tests start theirs on other ports.
  prometheus
  # The audit log on PostgreSQL (node/audit/pg_audit_store.h): libpq, and
  # the server binaries the tests start throwaway clusters with
  # (node/storage/pg/testing/pg_cluster.h, /usr/lib/postgresql/15/bin). No
  # system service is needed; Debian may create and start one anyway.
  libpq-dev postgresql-15
  # The transparency report's HTML page rendered headless
  # (client/audit/report_html_chromium_test.cc), and the web console driven
  # in a real browser (tests/browser/): chromedriver, and NSS's certutil and
  # pk12util to give the browser an office certificate.
  chromium chromium-driver libnss3-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "cbx: installing missing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
