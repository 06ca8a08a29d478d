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
#   5. the same root booted with systemd as PID 1 (systemd-nspawn): the
#      unit is installed disabled; `systemctl enable --now cbx-node` starts
#      the node, StateDirectory= makes /var/lib/cbx (cbx, 0700), the
#      unit's sandbox holds in the running process (user cbx, no
#      capabilities, seccomp, read-only / and /etc/cbx), /readyz and
#      `cbx peers` answer, the journal has its ready line, systemd
#      restarts it after kill -9, and `systemctl stop` ends it with exit 0
#      and no ALERT; the container is powered off on every path;
#   6. the package is reinstalled (postinst again: the operator's enable
#      stays) and purged: the operator's config and the node's state stay.
#
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
# Needs root (chroot, mount); exits 77 (ctest: skipped) otherwise. Without
# systemd-nspawn (package systemd-container) part 5 is skipped with a
# message and the test exits 77 after the other parts pass. Prints the
# time of each step; the root's first bootstrap is the slow one.
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
if command -v systemd-nspawn >/dev/null; then
  for tool in nsenter pgrep timeout; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (part 5 needs it with systemd-nspawn)"
  done
fi

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
  # Its container, if it still runs: systemd-nspawn powers it off on SIGTERM.
  old_nspawn="$(cat "$old/nspawn.pid" 2>/dev/null || true)"
  if [[ -n "$old_nspawn" ]] && tr '\0' ' ' <"/proc/$old_nspawn/cmdline" 2>/dev/null |
      grep -qF -- "-D $old/root "; then
    kill -TERM "$old_nspawn" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$old_nspawn" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$old_nspawn" 2>/dev/null || true
  fi
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
  stop_container
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

# --- the root under systemd (part 5) -------------------------------------------

# systemd-nspawn's pid, its child (the container's systemd, PID 1 inside)
# and the container's name; this test's pid makes the name unique.
nspawn_pid=""
container_pid=""
nspawn_rc=0
readonly machine="cbx-install-test-$$"

# running PID: the process exists and is not a zombie (a child that exited
# stays visible to kill -0 until it is waited for).
running() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$stat" != Z* ]]
}

in_container() { nsenter -t "$container_pid" -a "$@"; }

# unit_prop NAME: one property of cbx-node.service, as systemctl show gives it.
unit_prop() { in_container systemctl show -p "$1" --value cbx-node.service; }

node_journal() { in_container journalctl -u cbx-node.service -o cat --no-pager; }

# unit_failure MESSAGE: the unit's state and journal, then fails.
unit_failure() {
  in_container systemctl status --no-pager -n 0 cbx-node.service >&2 || true
  node_journal | tail -n 40 >&2 || true
  fail "$1"
}

# Boots $root with systemd as PID 1 and waits until it has started every
# unit: `running`, or `degraded` (its failed units and why are printed).
boot_container() {
  systemd-nspawn --register=no --keep-unit -q --console=read-only \
    -D "$root" --boot --machine="$machine" </dev/null >"$work/boot.log" 2>&1 &
  nspawn_pid=$!
  echo "$nspawn_pid" >"$work/nspawn.pid"
  for _ in $(seq 1 300); do
    container_pid="$(pgrep -P "$nspawn_pid" -x systemd || true)"
    [[ -z "$container_pid" ]] || break
    running "$nspawn_pid" ||
      { cat "$work/boot.log" >&2; fail "systemd-nspawn exited before the container's systemd started"; }
    sleep 0.1
  done
  [[ -n "$container_pid" ]] ||
    { cat "$work/boot.log" >&2; fail "the container's systemd did not start within 30 s"; }
  # Before the manager's socket exists, is-system-running fails or says
  # offline; once it answers, --wait waits out the boot.
  local state="" deadline=$((SECONDS + 120))
  while ((SECONDS < deadline)); do
    state="$(timeout 120 nsenter -t "$container_pid" -a systemctl is-system-running --wait 2>/dev/null || true)"
    [[ "$state" != running && "$state" != degraded ]] || break
    running "$nspawn_pid" || break
    sleep 0.2
  done
  case "$state" in
    running) echo "$PROG: the container's systemd is running, no unit failed" ;;
    degraded)
      echo "$PROG: the container's systemd is degraded; its failed units:"
      local unit
      for unit in $(in_container systemctl list-units --failed --no-legend --plain | awk '{ print $1 }'); do
        in_container systemctl status --no-pager -n 5 "$unit" 2>&1 | sed "s/^/$PROG:   /" || true
      done
      ;;
    *)
      tail -n 30 "$work/boot.log" >&2
      fail "the container's systemd did not finish booting within 120 s (is-system-running: ${state:-no answer})"
      ;;
  esac
}

# Powers the container off (systemd-nspawn turns its SIGTERM into the
# container's poweroff); after 30 s, SIGKILL to the container's PID 1,
# which ends every process in it. nspawn_rc is systemd-nspawn's status.
stop_container() {
  [[ -n "$nspawn_pid" ]] || return 0
  kill -TERM "$nspawn_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    running "$nspawn_pid" || break
    sleep 0.1
  done
  if running "$nspawn_pid"; then
    echo "$PROG: the container did not power off within 30 s: killing it" >&2
    if [[ -n "$container_pid" ]]; then kill -KILL "$container_pid" 2>/dev/null || true; fi
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  nspawn_rc=0
  wait "$nspawn_pid" 2>/dev/null || nspawn_rc=$?
  nspawn_pid=""
  container_pid=""
  rm -f "$work/nspawn.pid"
  rmdir "/run/systemd/nspawn/propagate/$machine" 2>/dev/null || true
}

# wait_for_ready COUNT: the journal holds COUNT `ready` lines of the node
# (one per start) within 60 s.
wait_for_ready() {
  for _ in $(seq 1 300); do
    (($(node_journal | grep -cE "$ready_re" || true) >= $1)) && return 0
    sleep 0.2
  done
  unit_failure "the journal holds no ready line of start $1 of cbx-node within 60 s"
}

# The installed unit is disabled (the package must not start a node that
# has no config yet); the operator's `enable --now` starts it, and
# StateDirectory= makes /var/lib/cbx (removed before the boot).
start_under_systemd() {
  local enabled active
  enabled="$(in_container systemctl is-enabled cbx-node.service 2>&1 || true)"
  active="$(in_container systemctl is-active cbx-node.service 2>&1 || true)"
  [[ "$enabled" == disabled && "$active" == inactive ]] ||
    unit_failure "after the install and a boot cbx-node.service is $enabled and $active, not disabled and inactive"
  in_container systemctl enable --now cbx-node.service >"$work/enable.log" 2>&1 ||
    { cat "$work/enable.log" >&2; unit_failure "systemctl enable --now cbx-node failed"; }
  active="$(in_container systemctl is-active cbx-node.service 2>&1 || true)"
  [[ "$active" == active ]] || unit_failure "cbx-node.service is $active after enable --now"
  wait_for_ready 1
  local state
  state="$(in_container stat -c '%U:%G %a' /var/lib/cbx)"
  [[ "$state" == "cbx:cbx 700" ]] ||
    fail "StateDirectory= made /var/lib/cbx $state, not cbx:cbx 700"
}

# The unit's settings as systemd read them, then their effect on the
# running process as the kernel reports it.
check_sandbox() {
  local names=() expect=(User=cbx Group=cbx ProtectSystem=strict ProtectHome=yes
    PrivateTmp=yes PrivateDevices=yes NoNewPrivileges=yes CapabilityBoundingSet=
    AmbientCapabilities= MemoryDenyWriteExecute=yes
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' StateDirectory=cbx
    StateDirectoryMode=0700 Restart=on-failure RestartPreventExitStatus=2) e
  for e in "${expect[@]}"; do names+=("${e%%=*}"); done
  in_container systemctl show cbx-node.service -p "$(IFS=,; echo "${names[*]}")" >"$work/show.log"
  for e in "${expect[@]}"; do
    grep -qxF "$e" "$work/show.log" ||
      fail "systemctl show cbx-node: expected $e, got '$(grep "^${e%%=*}=" "$work/show.log")'"
  done
  main_pid="$(unit_prop MainPID)"
  local ruser status
  ruser="$(in_container ps -o ruser= -p "$main_pid" | tr -d ' ')"
  [[ "$ruser" == cbx ]] || fail "the node (pid $main_pid in the container) runs as $ruser, not cbx"
  status="$(in_container cat "/proc/$main_pid/status" | tr '\t' ' ')"
  for e in "Uid: $cbx_uid $cbx_uid $cbx_uid $cbx_uid" "NoNewPrivs: 1" "Seccomp: 2" \
      "CapEff: 0000000000000000" "CapBnd: 0000000000000000"; do
    grep -qxF "$e" <<<"$status" ||
      fail "the node's /proc status lacks '$e': $(grep -E '^(Uid|NoNewPrivs|Seccomp|CapEff|CapBnd):' <<<"$status" | tr '\n' ';')"
  done
  # The node's mount namespace: / read-only, /var/lib/cbx writable, and
  # /etc/cbx read-only (its key files belong to cbx: a writable mount would
  # let the node rewrite its own keys).
  local mounts
  mounts="$(in_container awk '{ print $5, substr($6, 1, 2) }' "/proc/$main_pid/mountinfo")"
  for e in "/ ro" "/var/lib/cbx rw" "/etc/cbx ro"; do
    [[ "$(grep "^${e% *} " <<<"$mounts" | tail -n 1)" == "$e" ]] ||
      fail "in the node's mount namespace ${e% *} is not ${e#* }: $(grep "^${e% *} " <<<"$mounts" | tr '\n' ';')"
  done
  local as_node=(nsenter -t "$main_pid" -m -S "$cbx_uid" -G "$cbx_gid")
  if in_container "${as_node[@]}" sh -c 'test -w /etc/cbx/oprf.key'; then
    fail "the node's user can write /etc/cbx/oprf.key in the node's mount namespace"
  fi
  in_container "${as_node[@]}" sh -c 'test -w /var/lib/cbx/node.db' ||
    fail "the node's user cannot write /var/lib/cbx/node.db in the node's mount namespace"
}

# GET /readyz from the admin endpoint HOST:PORT, the whole answer (bash's
# /dev/tcp: python's start alone takes seconds on a busy machine).
get_readyz() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
    printf "GET /readyz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$1" >&3 &&
    cat <&3' _ "$1"
}

# /readyz on the admin port (shared loopback) and the installed `cbx peers`.
check_answers() {
  local admin
  admin="$(sed -n 's/^ *"admin_listen": "\(.*\)",\?$/\1/p' "$etc/node.json")"
  [[ -n "$admin" ]] || fail "no admin_listen in $etc/node.json"
  for _ in $(seq 1 150); do
    get_readyz "$admin" >"$work/readyz.log" 2>&1 || true
    grep -q '^HTTP/1\.[01] 200' "$work/readyz.log" && grep -qx ready "$work/readyz.log" && break
    sleep 0.2
  done
  grep -q '^HTTP/1\.[01] 200' "$work/readyz.log" && grep -qx ready "$work/readyz.log" ||
    { cat "$work/readyz.log" >&2; unit_failure "GET http://$admin/readyz of the node under systemd is not 200 ready within 30 s"; }
  in_container /usr/bin/cbx peers --node "$office_listen" --cert /root/office/operator.crt \
    --key /root/office/operator.key --ca /root/office/ca.crt >"$work/peers-systemd.log" 2>&1 ||
    { cat "$work/peers-systemd.log" >&2; unit_failure "cbx peers failed against the node under systemd"; }
  grep -q RS "$work/peers-systemd.log" ||
    { cat "$work/peers-systemd.log" >&2; fail "cbx peers (node under systemd) does not list RS"; }
}

# kill -9 of the node: Restart=on-failure starts it again after RestartSec
# (5 s). Exit 75 (a lost leadership, spec/active-standby.md) is restarted
# by the same rule, as any exit but 2 (RestartPreventExitStatus=, checked
# above); the packaged single node on SQLite has no leadership to lose.
check_restart() {
  local old_pid="$main_pid" t0
  t0=$(now_ms)
  in_container kill -KILL "$old_pid"
  for _ in $(seq 1 300); do
    [[ "$(unit_prop NRestarts)" == 1 && "$(unit_prop ActiveState)" == active ]] && break
    sleep 0.1
  done
  [[ "$(unit_prop NRestarts)" == 1 ]] ||
    unit_failure "systemd did not restart cbx-node within 30 s of kill -9"
  main_pid="$(unit_prop MainPID)"
  [[ "$main_pid" != "$old_pid" && "$main_pid" != 0 ]] ||
    unit_failure "cbx-node's main pid after the restart is $main_pid"
  wait_for_ready 2
  echo "$PROG: restarted and ready again $(( ($(now_ms) - t0) / 100 ))00 ms after kill -9 (RestartSec=5)"
}

# systemctl stop: SIGTERM, drain, exit 0; systemd records a clean exit.
stop_under_systemd() {
  in_container systemctl stop cbx-node.service >"$work/stop.log" 2>&1 ||
    { cat "$work/stop.log" >&2; unit_failure "systemctl stop cbx-node failed"; }
  local e
  in_container systemctl show cbx-node.service -p ActiveState,Result,ExecMainCode,ExecMainStatus >"$work/stopped.log"
  # ExecMainCode 1: exited (not killed by a signal).
  for e in ActiveState=inactive Result=success ExecMainCode=1 ExecMainStatus=0; do
    grep -qxF "$e" "$work/stopped.log" ||
      unit_failure "after systemctl stop, cbx-node's $(grep "^${e%%=*}=" "$work/stopped.log"), not $e"
  done
  node_journal >"$work/journal.log"
  grep -qE ' stopped( |$)|"event": ?"stopped"' "$work/journal.log" ||
    unit_failure "the journal has no stopped line of cbx-node"
  if grep -q ALERT "$work/journal.log"; then
    grep ALERT "$work/journal.log" >&2
    fail "the node under systemd logged an ALERT"
  fi
}

systemd_part() {
  step "booting the root with systemd as PID 1 (systemd-nspawn)"
  # nspawn mounts its own /proc and /dev; StateDirectory= must make
  # /var/lib/cbx (the node run by hand above filled it).
  umount_all "$root"
  rm -rf --one-file-system -- "$root/var/lib/cbx"
  boot_container
  step "systemctl enable --now cbx-node"
  start_under_systemd
  step "the unit's sandbox on the running node"
  check_sandbox
  step "/readyz and cbx peers against the node under systemd"
  check_answers
  step "kill -9: systemd restarts the node"
  check_restart
  step "systemctl stop cbx-node"
  stop_under_systemd
  step "powering the container off"
  stop_container
  [[ $nspawn_rc -eq 0 ]] ||
    { tail -n 30 "$work/boot.log" >&2; fail "systemd-nspawn exited $nspawn_rc on the container's poweroff"; }
  # Part 6 runs dpkg and apt in the root again.
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
}

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
# Installed disabled: the node has no config yet.
readonly wants="$root/etc/systemd/system/multi-user.target.wants/cbx-node.service"
[[ ! -e "$wants" && ! -L "$wants" ]] ||
  fail "the install enabled cbx-node.service ($wants): it must stay disabled until the operator enables it"

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

# --- 5. the node under systemd as PID 1 --------------------------------------------

# The same root booted with systemd-nspawn: systemd as PID 1 starts the
# node from the packaged unit, as on a Debian 12 server. The container
# shares this machine's network (the config's ports are on loopback), is
# not registered with a machined (--register=no: there may be none, and
# registering needs the host's system bus) and stays in this test's own
# cgroup (--keep-unit). machinectl cannot reach such a container; nsenter
# into its PID 1 can.
systemd_skipped=""
if ! command -v systemd-nspawn >/dev/null; then
  systemd_skipped="systemd-nspawn is not installed (package systemd-container; scripts/install-deps.sh installs it)"
  echo "$PROG: SKIPPING the node under systemd: $systemd_skipped"
else
  systemd_part
fi

# --- 6. reinstall and purge ------------------------------------------------------

step "reinstalling and purging the package"
in_root dpkg -i "/tmp/$deb_name" >"$work/reinstall.log" 2>&1 ||
  { cat "$work/reinstall.log" >&2; fail "reinstalling $deb_name failed"; }
[[ "$(in_root getent passwd cbx)" == "$passwd_line" ]] ||
  fail "reinstalling changed the cbx user: $(in_root getent passwd cbx)"
if [[ -z "$systemd_skipped" && ! -L "$wants" ]]; then
  fail "reinstalling disabled cbx-node.service, which the operator had enabled (part 5)"
fi
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cbx >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log" >&2; fail "apt-get purge cbx failed"; }
[[ ! -e "$root/usr/bin/cbx-node" ]] || fail "purge left /usr/bin/cbx-node"
[[ ! -e "$etc/node.json.example" ]] || fail "purge left the conffile node.json.example"
[[ -f "$etc/node.json" && -f "$etc/oprf.key" ]] ||
  fail "purge removed the operator's config or keys"
[[ -f "$root/var/lib/cbx/audit.db" ]] || fail "purge removed the audit log"

step ""
print_timings
if [[ -n "$systemd_skipped" ]]; then
  echo "$PROG: SKIPPED (exit 77): parts 1-4 and 6 passed; part 5, the node under systemd, did not run: $systemd_skipped"
  exit 77
fi
echo "$PROG: PASS"
