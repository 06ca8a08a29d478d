#!/usr/bin/env bash
# A clean Debian 12 (bookworm) root for the package install test, cached.
#
#   debian_root.sh warm           make the cached root if it is missing
#   debian_root.sh unpack DIR     unpack the cached root into DIR (made warm
#                                 first if needed)
#
# The root is `debootstrap --variant=minbase bookworm` from the Debian mirror
# this machine's apt uses (/etc/apt/sources.list and sources.list.d, or
# CBX_DEBIAN_MIRROR), with bookworm-updates and bookworm-security (if this
# machine uses them) in its sources.list and `apt-get update` already run, so
# a later `apt-get install ./cbx_*.deb` only downloads the package's
# dependencies; systemd and procps are installed in it, as on any Debian 12
# server (systemd-analyze verifies the unit in the root; the unit's
# ExecReload runs procps's /bin/kill). It is kept as a tarball:
#
#   $CBX_TEST_CACHE_DIR/bookworm-minbase.tar  (default /var/cache/cbx-test)
#   $CBX_TEST_CACHE_DIR/bookworm-minbase.recipe  what was installed in it;
#                                             a tarball of an older recipe
#                                             is provisioned again, without
#                                             a new debootstrap
#   $CBX_TEST_CACHE_DIR/apt-archives/         .debs apt downloaded in the
#                                             root, kept between runs
#
# CBX_PACKAGE_TEST_REFRESH=1 makes the tarball again. Needs root and
# debootstrap. A missing cache and an unreachable mirror is an error, never
# a silent pass.
set -euo pipefail

readonly PROG="${0##*/}"
readonly CACHE_DIR="${CBX_TEST_CACHE_DIR:-/var/cache/cbx-test}"
readonly CACHE_TAR="$CACHE_DIR/bookworm-minbase.tar"
readonly CACHE_RECIPE="$CACHE_DIR/bookworm-minbase.recipe"
readonly SUITE=bookworm
# Installed in the root after debootstrap; change it and caches are
# provisioned again.
readonly PROVISION=(systemd procps)
readonly RECIPE="minbase+apt-update+${PROVISION[*]}"

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# The folder a root is made or provisioned in; removed on every exit.
scratch=""
remove_scratch() {
  [[ -n "$scratch" ]] || return 0
  umount_all "$scratch"
  rm -rf --one-file-system -- "$scratch"
}
trap remove_scratch EXIT

# Prints "URI SUITE" for every `deb` source of this machine's apt, one-line
# (.list) and deb822 (.sources) formats.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk '$1 == "deb" {
           i = 2
           if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
           print $i, $(i + 1)
         }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk 'function flush(  n, m, a, b, U, S) {
           if (types ~ /(^| )deb( |$)/) {
             n = split(uris, U, " "); m = split(suites, S, " ")
             for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print U[a], S[b]
           }
           types = uris = suites = ""
         }
         /^[[:space:]]*#/ { next }
         /^[[:space:]]*$/ { flush(); next }
         /^Types:/  { sub(/^Types:[[:space:]]*/, "");  types = $0 }
         /^URIs:/   { sub(/^URIs:[[:space:]]*/, "");   uris = $0 }
         /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
         END { flush() }' "$f"
  done
}

# The first URI this machine's apt uses for SUITE, or nothing.
source_for() {
  apt_sources | awk -v suite="$1" '$2 == suite { print $1; exit }'
}

# Makes the tarball: debootstrap into a scratch folder, sources, apt-get
# update, tar. The scratch folder is removed on every path.
make_cache() {
  command -v debootstrap >/dev/null ||
    die "debootstrap is not installed (scripts/install-deps.sh installs it)"
  local mirror security updates
  mirror="${CBX_DEBIAN_MIRROR:-$(source_for "$SUITE")}"
  [[ -n "$mirror" ]] ||
    die "no Debian mirror for $SUITE in /etc/apt/sources.list(.d); set CBX_DEBIAN_MIRROR"
  updates="$(source_for "$SUITE-updates")"
  security="$(source_for "$SUITE-security")"

  mkdir -p "$CACHE_DIR"
  scratch="$(mktemp -d /var/tmp/cbx-bookworm-root.XXXXXX)"

  echo "$PROG: debootstrap --variant=minbase $SUITE from $mirror (first run only)"
  local started=$SECONDS
  if ! debootstrap --variant=minbase "$SUITE" "$scratch/root" "$mirror" \
      >"$scratch/debootstrap.log" 2>&1; then
    tail -n 20 "$scratch/debootstrap.log" >&2
    die "debootstrap from $mirror failed and there is no cached root in $CACHE_TAR; the package install test needs either (is the mirror reachable?)"
  fi
  {
    echo "deb $mirror $SUITE main"
    if [[ -n "$updates" ]]; then echo "deb $updates $SUITE-updates main"; fi
    if [[ -n "$security" ]]; then echo "deb $security $SUITE-security main"; fi
  } >"$scratch/root/etc/apt/sources.list"
  cp /etc/resolv.conf "$scratch/root/etc/resolv.conf" 2>/dev/null || true
  if ! chroot "$scratch/root" apt-get update -qq >"$scratch/update.log" 2>&1; then
    cat "$scratch/update.log" >&2
    die "apt-get update in the new $SUITE root failed"
  fi
  provision_and_save
  echo "$PROG: cached the $SUITE root in $CACHE_TAR ($(du -h "$CACHE_TAR" | cut -f1)) in $((SECONDS - started)) s"
}

# Installs PROVISION in $scratch/root (with /proc mounted, unmounted after),
# then writes the tarball and its recipe.
provision_and_save() {
  mount -t proc proc "$scratch/root/proc"
  if ! chroot "$scratch/root" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${PROVISION[@]}" \
      >"$scratch/provision.log" 2>&1; then
    umount_all "$scratch"
    tail -n 20 "$scratch/provision.log" >&2
    die "installing ${PROVISION[*]} in the $SUITE root failed"
  fi
  umount_all "$scratch"
  chroot "$scratch/root" apt-get clean
  tar -C "$scratch/root" -cf "$CACHE_TAR.tmp" .
  mv -f "$CACHE_TAR.tmp" "$CACHE_TAR"
  echo "$RECIPE" >"$CACHE_RECIPE"
}

# A tarball of an older recipe: unpacked, provisioned again, saved.
reprovision_cache() {
  scratch="$(mktemp -d /var/tmp/cbx-bookworm-root.XXXXXX)"
  echo "$PROG: the cached root predates '$RECIPE': installing ${PROVISION[*]} in it"
  mkdir "$scratch/root"
  tar -C "$scratch/root" -xf "$CACHE_TAR"
  cp /etc/resolv.conf "$scratch/root/etc/resolv.conf" 2>/dev/null || true
  chroot "$scratch/root" apt-get update -qq >"$scratch/update.log" 2>&1 ||
    { cat "$scratch/update.log" >&2; die "apt-get update in the cached root failed"; }
  provision_and_save
}

# Unmounts every mount point under DIR, deepest first.
umount_all() {
  local dir="$1" m
  [[ -d "$dir" ]] || return 0
  dir="$(realpath "$dir")"
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

warm() {
  [[ "$(id -u)" -eq 0 ]] || die "must run as root (debootstrap and chroot)"
  mkdir -p "$CACHE_DIR/apt-archives/partial"
  # One maker at a time; a second waits and then finds the tarball.
  exec 9>"$CACHE_DIR/.lock"
  flock 9
  if [[ ! -s "$CACHE_TAR" || "${CBX_PACKAGE_TEST_REFRESH:-0}" == 1 ]]; then
    make_cache
  elif [[ "$(cat "$CACHE_RECIPE" 2>/dev/null)" != "$RECIPE" ]]; then
    reprovision_cache
  fi
  flock -u 9
}

case "${1:-}" in
  warm)
    warm
    ;;
  unpack)
    [[ $# -eq 2 ]] || die "usage: $PROG unpack DIR"
    warm
    mkdir -p "$2"
    tar -C "$2" -xf "$CACHE_TAR"
    ;;
  *)
    echo "usage: $PROG warm | unpack DIR" >&2
    exit 2
    ;;
esac
