#!/usr/bin/env bash
# test/helpers/govmomi.sh — govc and vcsim (govmomi, Apache-2.0) for the tests: a real VMware client
# and a vCenter simulator. A test tool, not part of the appliance.
#
# Built offline from Debian's source package golang-github-vmware-govmomi (pinned below) with Debian's
# golang-go in GOPATH mode: the only other Go code it needs is in Debian's -dev packages
# (/usr/share/gocode). Nothing is downloaded but from Debian's archive. The source comes through
# `apt-get source` with a deb-src line for this machine's mirror (build/mirror.sh), in an APT state
# of its own (lists and caches in a scratch folder): the system's sources.list is not touched.
#
# Prints the folder holding govc and vcsim (the last line of stdout). Cached in
# OVACTL_GOVMOMI_CACHE (default .cache/govmomi, shared by worktrees) as VERSION/{govc,vcsim,build.json}:
# built in a scratch folder and renamed into place under a lock, so concurrent callers build once.
# Exit status: 0 ready, 1 the build failed, 77 not root and the build packages are missing.
set -euo pipefail

VERSION=0.24.2-3
SOURCE=golang-github-vmware-govmomi
here=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$(realpath -m "${OVACTL_GOVMOMI_CACHE:-$here/.cache/govmomi}")
DEST="$CACHE/$VERSION"
say() { echo "govmomi: $*" >&2; }
die() { say "$*"; exit 1; }
ready() { [ -x "$DEST/govc" ] && [ -x "$DEST/vcsim" ]; }

if ready; then echo "$DEST"; exit 0; fi

# golang-go: the compiler (1.19 in Debian 12); -dev packages: the libraries govc and vcsim import
# (kr/pretty and its kr/text, google/uuid); dpkg-dev: dpkg-source unpacks the source package.
PACKAGES=(golang-go golang-github-kr-pretty-dev golang-github-google-uuid-dev dpkg-dev xz-utils)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || { say "needs ${missing[*]} (run as root to install them)"; exit 77; }
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null; }
  apt_install 2>/dev/null || { apt-get update -qq && apt_install; } || die "cannot install ${missing[*]}"
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9
if ready; then echo "$DEST"; exit 0; fi

start=$(date +%s%N)
work=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the source package, through an APT state of our own -----------------------------------------
# shellcheck source=build/mirror.sh
. "$here/build/mirror.sh"
mirror=$(mirror_for bookworm)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -f "$keyring" ] && signed="[signed-by=$keyring] "
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
echo "deb-src ${signed}$mirror bookworm main" >"$work/apt/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=$work/apt/none"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root
)
apt-get "${apt_opts[@]}" -qq update || die "apt-get update of deb-src $mirror bookworm failed"
(cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only "$SOURCE=$VERSION" >/dev/null) ||
  die "apt-get source $SOURCE=$VERSION failed (from $mirror)"
gopath="$work/gopath"
pkg="$gopath/src/github.com/vmware/govmomi"
mkdir -p "$(dirname "$pkg")"
dpkg-source -x "$work/src/${SOURCE}_$VERSION.dsc" "$pkg" >/dev/null 2>&1 || die "dpkg-source -x failed"

# --- build ----------------------------------------------------------------------------------------
# GOPATH mode (no modules, no proxy): the source tree first, then Debian's /usr/share/gocode.
mkdir -p "$work/bin"
(
  cd "$pkg"
  env GO111MODULE=off GOPROXY=off GOFLAGS= GOENV=off CGO_ENABLED=0 GOPATH="$gopath:/usr/share/gocode" \
    GOCACHE="$work/gocache" HOME="$work" \
    go build -trimpath -ldflags=-s -o "$work/bin/" ./govc ./vcsim
) || die "go build of govc and vcsim failed"
"$work/bin/govc" version >/dev/null || die "the built govc does not run"
secs=$((($(date +%s%N) - start) / 1000000000))
printf '{"version":"%s","go":"%s","seconds":%d,"cpus":%d}\n' "$VERSION" "$(go env GOVERSION)" "$secs" "$(nproc)" \
  >"$work/bin/build.json"
rm -rf "$DEST"
mv "$work/bin" "$DEST"
say "built govc and vcsim $VERSION in $secs s ($(go env GOVERSION), $(nproc) CPUs): $DEST"
echo "$DEST"
