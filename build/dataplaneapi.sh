#!/usr/bin/env bash
# The HAProxy Data Plane API for the image, pinned in build/dataplaneapi.pin.
#
#   build/dataplaneapi.sh fetch DIR      put a verified binary in DIR/dataplaneapi (or DIR/none)
#   build/dataplaneapi.sh install ROOT   install it as ROOT/usr/local/bin/dataplaneapi (0755) and
#                                        record its version in ROOT/usr/lib/ovactl/build-info.json
#
# Where it comes from (DATAPLANEAPI, or the older DATAPLANEAPI_BIN):
#   unset        download the pinned release tarball and its checksums.txt (online builds), verify
#   PATH         a local release tarball (.tar.gz) or the binary itself (offline builds); checked
#                against the pin's sha256 when one is pinned
#   none         no Data Plane API: said in the build information; first boot then reports
#                dataplaneapi.missing instead of READY
# Either way the binary must run and say a version >= 2.3 and < 3, or the build fails.
# DATAPLANEAPI_PIN=FILE reads another pin file (tests); DATAPLANEAPI_RELEASES in it may be file://.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "dataplaneapi: $*" >&2; exit 1; }
say() { echo "dataplaneapi: $*"; }
# shellcheck source=build/dataplaneapi.pin
. "${DATAPLANEAPI_PIN:-$here/dataplaneapi.pin}"
source=${DATAPLANEAPI-${DATAPLANEAPI_BIN-}}

sha() { sha256sum "$1" | cut -d' ' -f1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The binary's own version ("v2.9.27" somewhere in its --version output), checked against 2.3 ≤ v < 3.
check_version() {
  local out v major minor
  out=$("$1" --version 2>&1 | head -n 5) || die "$1 does not run ($out)"
  v=$(grep -oE 'v?[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$out" | head -n 1 | sed 's/^v//')
  [ -n "$v" ] || die "$1 --version names no version: $out"
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  { [ "$major" -eq 2 ] && [ "$minor" -ge 3 ]; } || die "$1 is version $v; the image needs 2.3 or later and below 3 (the Supervisor speaks /v2)"
  echo "$v"
}

# A tarball (verified) or a binary → DIR/dataplaneapi.
from_tarball() {
  local tgz=$1 dir=$2 listed=${3:-}
  local got; got=$(sha "$tgz")
  if [ -n "$DATAPLANEAPI_SHA256" ]; then
    [ "$got" = "$DATAPLANEAPI_SHA256" ] || die "$tgz: sha256 $got, the pin says $DATAPLANEAPI_SHA256"
  elif [ -n "$listed" ]; then
    [ "$got" = "$listed" ] || die "$tgz: sha256 $got, checksums.txt says $listed"
    say "verified against checksums.txt (no sha256 pinned; pin it: DATAPLANEAPI_SHA256=$got)"
  elif [ "${4:-}" = downloaded ]; then
    die "$tgz: nothing to verify it against (no sha256 pinned, no checksums.txt)"
  else
    say "$tgz: no sha256 pinned; taken as given (sha256 $got)"
  fi
  tar -xzf "$tgz" -C "$dir" dataplaneapi || die "$tgz holds no dataplaneapi binary"
}

fetch() {
  local dir=$1
  mkdir -p "$dir"
  rm -f "$dir/dataplaneapi" "$dir/none"
  if [ "$source" = none ]; then
    : >"$dir/none"
    say "none: the image gets no Data Plane API (DATAPLANEAPI=none)"
    return
  fi
  if [ -z "$source" ]; then
    local base="$DATAPLANEAPI_RELEASES/v$DATAPLANEAPI_VERSION" tmp="$work/download"
    mkdir -p "$tmp"
    say "downloading $base/$DATAPLANEAPI_ASSET"
    curl -fsSL --retry 3 -o "$tmp/$DATAPLANEAPI_ASSET" "$base/$DATAPLANEAPI_ASSET" \
      || die "could not download $base/$DATAPLANEAPI_ASSET: offline? give a local file with DATAPLANEAPI=PATH (or DATAPLANEAPI=none)"
    local listed=''
    if curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/checksums.txt"; then
      listed=$(awk -v f="$DATAPLANEAPI_ASSET" '$2 == f || $2 == "*" f {print $1}' "$tmp/checksums.txt")
    fi
    from_tarball "$tmp/$DATAPLANEAPI_ASSET" "$dir" "$listed" downloaded
  elif [ -f "$source" ] && gzip -t "$source" 2>/dev/null; then
    from_tarball "$source" "$dir" ''
  elif [ -f "$source" ]; then
    if [ -n "${DATAPLANEAPI_BINARY_SHA256:-}" ]; then
      [ "$(sha "$source")" = "$DATAPLANEAPI_BINARY_SHA256" ] || die "$source: sha256 $(sha "$source"), the pin says $DATAPLANEAPI_BINARY_SHA256"
    fi
    install -m 0755 "$source" "$dir/dataplaneapi"
  else
    die "DATAPLANEAPI=$source is not a file (a release tarball or the binary; or none)"
  fi
  chmod 0755 "$dir/dataplaneapi"
  say "dataplaneapi $(check_version "$dir/dataplaneapi") ready in $dir"
}

install_into() {
  local root=$1 tmp="$work/binary" version
  fetch "$tmp"
  if [ -f "$tmp/none" ]; then
    rm -f "$root/usr/local/bin/dataplaneapi"
    version=none
  else
    version=$(check_version "$tmp/dataplaneapi")
    install -D -m 0755 "$tmp/dataplaneapi" "$root/usr/local/bin/dataplaneapi"
  fi
  install -d -m 0755 "$root/usr/lib/ovactl"
  printf '{"dataplaneapi":"%s","pinned":"%s"}\n' "$version" "$DATAPLANEAPI_VERSION" >"$root/usr/lib/ovactl/build-info.json"
  say "installed: dataplaneapi $version (pinned $DATAPLANEAPI_VERSION)"
}

case "${1:-}" in
  fetch) fetch "${2:?usage: build/dataplaneapi.sh fetch DIR}" ;;
  install) install_into "${2:?usage: build/dataplaneapi.sh install ROOT}" ;;
  *) die "usage: build/dataplaneapi.sh fetch DIR | install ROOT" ;;
esac
