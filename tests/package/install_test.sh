#!/usr/bin/env bash
# The Debian package, end to end (ctest cbx_package_install_test, label
# package):
#
#   1. cpack builds cbx_<version>_amd64.deb from BUILD_DIR (already built);
#      its contents, conffiles and Depends are checked, and lintian must
#      report no error;
#   2. a clean Debian 12 root (debootstrap --variant=minbase, cached by
#      debian_root.sh) gets it with `apt-get install ./cbx_*.deb`, which
#      must pull every library the binaries need; the maintainer scripts
#      must make the cbx user and /var/lib/cbx;
#   3. systemd-analyze verifies the installed unit;
#   4. with a test PKI (certs/make-federation.sh) and /etc/cbx/node.json
#      made from the packaged example (only member and ports changed),
#      cbx-node --check passes as user cbx, the node starts as user cbx,
#      logs `ready`, answers the installed `cbx peers`, and stops with exit
#      0 on SIGTERM;
#   5. the package is reinstalled (postinst again) and purged: the
#      operator's config and the node's state stay.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
# Needs root (chroot, mount); exits 77 (ctest: skipped) otherwise. Prints
# the time of each step; the root's first bootstrap is the slow one.
set -euo pipefail

readonly PROG="install_test"
[[ $# -eq 2 ]] || { echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2; exit 2; }
build="$(realpath "$1")"
src="$(realpath "$2")"
readonly build src

fail() {
  echo "$PROG: FAIL: $*" >&2
  exit 1
}

if [[ "$(id -u)" -ne 0 ]]; then
  echo "$PROG: SKIPPED: needs root (debootstrap, chroot, mount); run ctest as root"
  exit 77
fi
for tool in cpack dpkg-deb dpkg-shlibdeps lintian debootstrap openssl python3 chroot; do
  command -v "$tool" >/dev/null ||
    fail "$tool is not installed (scripts/install-deps.sh installs what this test needs)"
done

# --- timing --------------------------------------------------------------------

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
readonly t_start=$(now_ms)
t_step=$t_start
timings=()
# step NAME: closes the step that was running, names the next one.
step_name=""
step() {
  local t
  t=$(now_ms)
  if [[ -n "$step_name" ]]; then
    timings+=("$step_name $(( (t - t_step) / 100 ))")
  fi
  t_step=$t
  step_name="$1"
  [[ -z "$1" ]] || echo "$PROG: [$(( (t - t_start) / 1000 )) s] $1"
}
print_timings() {
  local entry out=""
  for entry in "${timings[@]}"; do
    local name="${entry% *}" tenths="${entry##* }"
    out+="$name $((tenths / 10)).$((tenths % 10)) s, "
  done
  echo "$PROG: times: ${out}total $(( ($(now_ms) - t_start) / 1000 )) s"
}

# --- work folder and cleanup ----------------------------------------------------

# umount_all DIR: unmounts every mount point under DIR, deepest first.
umount_all() {
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

# A run killed outright (SIGKILL, a lost machine) left its folder and
# mounts: unmount and remove those whose test is gone (not those kept with
# CBX_PACKAGE_TEST_KEEP=1).
for old in /var/tmp/cbx-install-test.*; do
  [[ -d "$old" && ! -e "$old/kept" ]] || continue
  old_pid="$(cat "$old/pid" 2>/dev/null || true)"
  if [[ -n "$old_pid" ]] && kill -0 "$old_pid" 2>/dev/null; then continue; fi
  umount_all "$old"
  rm -rf --one-file-system -- "$old" 2>/dev/null || true
done

work="$(mktemp -d /var/tmp/cbx-install-test.XXXXXX)"
echo $$ >"$work/pid"
root="$work/root"
node_pid=""
readonly cache_dir="${CBX_TEST_CACHE_DIR:-/var/cache/cbx-test}"

cleanup() {
  local rc=$?
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  umount_all "$root"
  if awk -v d="$root/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "$PROG: left $work: something is still mounted in it" >&2
  elif [[ "${CBX_PACKAGE_TEST_KEEP:-0}" == 1 ]]; then
    touch "$work/kept"
    echo "$PROG: kept $work (CBX_PACKAGE_TEST_KEEP=1; remove it by hand)"
  else
    rm -rf --one-file-system -- "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_root() { chroot "$root" "$@"; }

# --- 1. the package -------------------------------------------------------------

step "cpack: building the .deb"
if ! (cd "$build" && cpack -G DEB -B "$work/deb") >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack could not build the package (is $build built?)"
fi
debs=("$work"/deb/cbx_*_amd64.deb)
[[ ${#debs[@]} -eq 1 && -f "${debs[0]}" ]] || fail "cpack made no cbx_*_amd64.deb: $(ls "$work/deb")"
deb="${debs[0]}"
deb_name="${deb##*/}"
rm -rf "$work/deb/_CPack_Packages"
echo "$PROG: $deb_name, $(( $(stat -c %s "$deb") / 1024 )) KiB"

step "checking the .deb's contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/contents"
for path in /usr/bin/cbx-node /usr/bin/cbx /usr/bin/cbx-admin \
    /etc/cbx/node.json.example /etc/cbx/crl/ \
    /lib/systemd/system/cbx-node.service \
    /usr/share/man/man8/cbx-node.8.gz /usr/share/man/man1/cbx.1.gz \
    /usr/share/man/man1/cbx-admin.1.gz \
    /usr/share/doc/cbx/copyright /usr/share/doc/cbx/changelog.Debian.gz \
    /usr/share/doc/cbx/node.json.example /usr/share/doc/cbx/operations.md; do
  grep -qxF "$path" "$work/contents" || fail "the package has no $path"
done
programs="$(grep '^/usr/bin/.' "$work/contents" | sort | tr '\n' ' ')"
[[ "$programs" == "/usr/bin/cbx /usr/bin/cbx-admin /usr/bin/cbx-node " ]] ||
  fail "the package's programs are $programs (tests, benchmarks and fuzzers must not be installed)"
dpkg-deb -e "$deb" "$work/control"
grep -qxF /etc/cbx/node.json.example "$work/control/conffiles" ||
  fail "/etc/cbx/node.json.example is not a conffile: $(cat "$work/control/conffiles")"
depends="$(dpkg-deb -f "$deb" Depends)"
for dep in adduser libgrpc++1.51 libssl3 libsqlite3-0 libc6; do
  [[ "$depends" == *"$dep"* ]] || fail "Depends lacks $dep: $depends"
done

step "lintian"
# Errors fail the test; warnings and notes (I:) are printed for the record.
if ! lintian --fail-on error --display-info "$deb" >"$work/lintian.log" 2>&1; then
  cat "$work/lintian.log" >&2
  fail "lintian reports errors on $deb_name"
fi
grep -E '^[EWI]: ' "$work/lintian.log" | sed "s/^/$PROG: lintian: /" || true

# --- 2. a clean Debian 12 root ----------------------------------------------------

if [[ -s "$cache_dir/bookworm-minbase.tar" && "${CBX_PACKAGE_TEST_REFRESH:-0}" != 1 ]]; then
  step "unpacking the cached bookworm root"
else
  step "bootstrapping a bookworm root (cold: debootstrap, then cached)"
fi
bash "$src/tests/package/debian_root.sh" unpack "$root" ||
  fail "no clean Debian 12 root (see above)"

step "apt-get install ./$deb_name in the clean root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mkdir -p "$cache_dir/apt-archives/partial"
mount --bind "$cache_dir/apt-archives" "$root/var/cache/apt/archives"
cp "$deb" "$root/tmp/$deb_name"
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "/tmp/$deb_name" >"$work/apt.log" 2>&1; then
  tail -n 30 "$work/apt.log" >&2
  fail "apt-get install ./$deb_name failed in the clean root (if a dependency could not be downloaded, the cached root's package lists may be stale: CBX_PACKAGE_TEST_REFRESH=1 remakes it)"
fi
umount "$root/var/cache/apt/archives"

step "checking the installed files, the cbx user and the programs"
passwd_line="$(in_root getent passwd cbx)" || fail "postinst made no cbx user"
IFS=: read -r _ _ cbx_uid cbx_gid _ cbx_home cbx_shell <<<"$passwd_line"
[[ "$cbx_uid" -lt 1000 ]] || fail "cbx is not a system user: $passwd_line"
[[ "$cbx_home" == /var/lib/cbx ]] || fail "cbx's home is $cbx_home, not /var/lib/cbx"
[[ "$cbx_shell" == */nologin || "$cbx_shell" == /bin/false ]] ||
  fail "cbx has a login shell: $cbx_shell"
# (Numeric: the host's names for these ids are not the root's.)
state="$(stat -c '%u:%g %a' "$root/var/lib/cbx")"
[[ "$state" == "$cbx_uid:$cbx_gid 700" ]] ||
  fail "/var/lib/cbx is $state, not cbx:cbx ($cbx_uid:$cbx_gid) 700"
for program in cbx-node cbx cbx-admin; do
  # Runs only if apt installed every library it links.
  in_root "/usr/bin/$program" --help >"$work/$program.help" 2>&1 ||
    fail "$program --help failed in the clean root: $(cat "$work/$program.help")"
done

# --- 3. the systemd unit ------------------------------------------------------------

step "systemd-analyze verify and security on cbx-node.service"
# In the root, which has systemd (debian_root.sh); no man in it, so the
# Documentation= check is off. Exposure: 0 (sandboxed) to 10 (not at all);
# above 2.0 fails.
if ! command -v systemd-analyze >/dev/null; then
  echo "$PROG: systemd-analyze is not installed here: the unit is not verified (scripts/install-deps.sh installs systemd)"
else
  if ! systemd-analyze verify --man=no --root="$root" cbx-node.service \
      >"$work/verify.log" 2>&1 || [[ -s "$work/verify.log" ]]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify refuses or warns about the installed cbx-node.service"
  fi
  if ! systemd-analyze security --offline=true --threshold=20 --root="$root" \
      cbx-node.service >"$work/security.log" 2>&1; then
    cat "$work/security.log" >&2
    fail "cbx-node.service's exposure is above 2.0 (systemd-analyze security)"
  fi
  grep -a 'Overall exposure' "$work/security.log" | sed "s/^/$PROG: /" || true
fi
unit="$root/lib/systemd/system/cbx-node.service"
for line in User=cbx StateDirectory=cbx ConfigurationDirectory=cbx \
    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
    NoNewPrivileges=yes CapabilityBoundingSet= \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    SystemCallFilter=@system-service ReadWritePaths=/var/lib/cbx \
    'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
    'ExecStart=/usr/bin/cbx-node --config /etc/cbx/node.json'; do
  grep -qxF "$line" "$unit" || fail "cbx-node.service lacks '$line'"
done

# --- 4. a node from the example config ---------------------------------------------------

step "a test PKI and /etc/cbx/node.json from the example"
# Six free loopback ports: peer, office and admin for MK and RS.
base_port="$(python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000)
    ports = [base + d for d in (1, 2, 101, 102, 201, 202)]
    try:
        for p in ports:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(base)
    break
PY
)"
[[ -n "$base_port" ]] || fail "found no free loopback ports"
bash "$src/certs/make-federation.sh" "$work/federation" --countries MK,RS \
  --base-port "$base_port" --admin "$build/admin/cbx-admin" >"$work/pki.log" 2>&1 ||
  { cat "$work/pki.log" >&2; fail "certs/make-federation.sh failed"; }
fed="$work/federation"
etc="$root/etc/cbx"
cp "$fed/MK/node.crt" "$etc/node.crt"
cp "$fed/MK/ca.crt" "$etc/office-ca.crt"
cp "$fed/genesis.pb" "$etc/genesis.pb"
for key in node.key node-signing.key oprf.key; do
  install -m 0600 -o "$cbx_uid" -g "$cbx_gid" "$fed/MK/$key" "$etc/$key"
done
# The packaged example with this member and its test ports; every other
# field (data_dir, file names, intervals) as shipped.
python3 - "$etc/node.json.example" "$fed/MK/node.json" "$etc/node.json" <<'PY'
import json, sys
example, made, out = sys.argv[1:]
config = json.load(open(example))
ports = json.load(open(made))
config["member"] = ports["member"]
for field in ("peer_listen", "office_listen", "admin_listen"):
    config[field] = ports[field]
json.dump(config, open(out, "w"), indent=2)
PY
office="$root/root/office"
mkdir -p "$office"
cp "$fed/MK/ca.crt" "$office/ca.crt"
cp "$fed/MK/offices/PPO-Skopje-operator.crt" "$office/operator.crt"
install -m 0600 "$fed/MK/offices/PPO-Skopje-operator.key" "$office/operator.key"
office_listen="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["office_listen"])' "$etc/node.json")"

step "cbx-node --check as user cbx"
as_cbx=(chroot --userspec=cbx:cbx "$root")
"${as_cbx[@]}" /usr/bin/cbx-node --config /etc/cbx/node.json --check >"$work/check.log" 2>&1 ||
  { cat "$work/check.log" >&2; fail "cbx-node --check refuses the config made from the example"; }
in_root /usr/bin/cbx-admin directory verify --genesis /etc/cbx/genesis.pb >"$work/verify-dir.log" 2>&1 ||
  { cat "$work/verify-dir.log" >&2; fail "the installed cbx-admin does not verify the genesis"; }

step "starting cbx-node as user cbx"
"${as_cbx[@]}" /usr/bin/cbx-node --config /etc/cbx/node.json >"$work/node.log" 2>&1 &
node_pid=$!
# `ready` (text: the fourth word; JSON lines: the event field).
ready_re=' ready( |$)|"event": ?"ready"'
for _ in $(seq 1 600); do
  grep -qE "$ready_re" "$work/node.log" && break
  kill -0 "$node_pid" 2>/dev/null ||
    { cat "$work/node.log" >&2; fail "cbx-node exited before it was ready"; }
  sleep 0.1
done
grep -qE "$ready_re" "$work/node.log" ||
  { cat "$work/node.log" >&2; fail "cbx-node did not log ready within 60 s"; }

step "cbx peers against the installed node"
if ! in_root /usr/bin/cbx peers --node "$office_listen" --cert /root/office/operator.crt \
    --key /root/office/operator.key --ca /root/office/ca.crt >"$work/peers.log" 2>&1; then
  cat "$work/peers.log" "$work/node.log" >&2
  fail "cbx peers failed against the installed node"
fi
grep -q RS "$work/peers.log" ||
  { cat "$work/peers.log" >&2; fail "cbx peers does not list the peer RS"; }

step "stopping cbx-node (SIGTERM)"
kill -TERM "$node_pid"
node_rc=0
wait "$node_pid" || node_rc=$?
node_pid=""
[[ $node_rc -eq 0 ]] ||
  { cat "$work/node.log" >&2; fail "cbx-node exited $node_rc on SIGTERM, not 0"; }
grep -qE ' stopped( |$)|"event": ?"stopped"' "$work/node.log" ||
  { cat "$work/node.log" >&2; fail "cbx-node did not log stopped"; }
for db in node.db audit.db; do
  owner="$(stat -c %u "$root/var/lib/cbx/$db" 2>/dev/null)" ||
    fail "the node made no /var/lib/cbx/$db"
  [[ "$owner" == "$cbx_uid" ]] || fail "/var/lib/cbx/$db belongs to uid $owner, not cbx ($cbx_uid)"
done

# --- 5. reinstall and purge ------------------------------------------------------

step "reinstalling and purging the package"
in_root dpkg -i "/tmp/$deb_name" >"$work/reinstall.log" 2>&1 ||
  { cat "$work/reinstall.log" >&2; fail "reinstalling $deb_name failed"; }
[[ "$(in_root getent passwd cbx)" == "$passwd_line" ]] ||
  fail "reinstalling changed the cbx user: $(in_root getent passwd cbx)"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cbx >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log" >&2; fail "apt-get purge cbx failed"; }
[[ ! -e "$root/usr/bin/cbx-node" ]] || fail "purge left /usr/bin/cbx-node"
[[ ! -e "$etc/node.json.example" ]] || fail "purge left the conffile node.json.example"
[[ -f "$etc/node.json" && -f "$etc/oprf.key" ]] ||
  fail "purge removed the operator's config or keys"
[[ -f "$root/var/lib/cbx/audit.db" ]] || fail "purge removed the audit log"

step ""
print_timings
echo "$PROG: PASS"
