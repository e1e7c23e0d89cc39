#!/usr/bin/env bash
# test/helpers/rig/rootfs.sh ROOTFS_DIR — build (once, cached) the Debian 13 rootfs the boot tests run in
# systemd-nspawn: trixie minbase with systemd, haproxy 3.0, bird2, keepalived, openssl and Debian's Node 20 (the
# appliance's runtime; the image carries the same packages). ROOTFS_DIR/.complete marks a finished build of this recipe (RECIPE below);
# with it present this does nothing. Concurrent callers serialise on ROOTFS_DIR.lock; a crashed build leaves only a
# ROOTFS_DIR.tmp.* directory, which the next run removes.
#
# The mirror is the Debian one configured on this machine (/etc/apt/sources.list*), so the build
# needs nothing but the Debian archive. Override with DEBIAN_MIRROR=URL.
set -euo pipefail

ROOTFS=${1:?usage: rootfs.sh ROOTFS_DIR}
ROOTFS=$(realpath -m "$ROOTFS")
SUITE=trixie
# systemd-timesyncd: ovactl enables it when NTP servers are given (in a container its
# ConditionVirtualization=!container skips it, as a successful no-op). keepalived: two appliances, VRRP
# moves the floating management address (debootstrap --include pulls Depends only, no Recommends, like
# the image's --no-install-recommends: no ipvsadm).
PACKAGES=systemd,systemd-sysv,systemd-timesyncd,dbus,iproute2,iputils-ping,iputils-arping,haproxy,openssl,nodejs,ca-certificates,procps,curl,bird2,rsyslog,rsyslog-gnutls,keepalived
# Bump when the packages or the fixes below change: a cache of another recipe is rebuilt.
RECIPE="ovactl-rig-rootfs 8 trixie+updates+security"

complete() { [ "$(head -n 1 "$ROOTFS/.complete" 2>/dev/null)" = "$RECIPE" ]; }
[ "$(id -u)" -eq 0 ] || { echo "rootfs.sh: must run as root" >&2; exit 77; }

start=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - start) / 1000000 )) ms"; }

# Host tools: debootstrap to build, systemd-nspawn (systemd-container) to boot, ping (iputils-ping)
# for the client namespace. Exit 77 ("skip") when they are missing and cannot be installed.
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v ping >/dev/null || need+=(iputils-ping)
if ((${#need[@]})); then
  echo "rootfs.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
      { echo "rootfs.sh: cannot install ${need[*]}" >&2; exit 77; }
  fi
fi

complete && exit 0

mkdir -p "$(dirname "$ROOTFS")"
exec 9>"$ROOTFS.lock"
flock 9
complete && { echo "rootfs.sh: built by a concurrent run ($(elapsed) waiting)"; exit 0; }

# The Debian mirror of this machine (deb822 or one-line sources, exactly $SUITE).
# shellcheck source=build/mirror.sh
. "$(dirname "$0")/../../../build/mirror.sh"
mirror=${DEBIAN_MIRROR:-$(mirror_for "$SUITE")}
mirror=${mirror:-http://deb.debian.org/debian}
echo "rootfs.sh: debootstrap $SUITE from $mirror into $ROOTFS"

rm -rf "$ROOTFS".tmp.* "$ROOTFS".old.*
tmp="$ROOTFS.tmp.$$"
mkdir -p "$tmp"
trap 'umount -l "$tmp/proc" 2>/dev/null; rm -rf "$tmp"' EXIT

log="$tmp.log"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "$mirror" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  [ -f "$tmp/debootstrap/debootstrap.log" ] && tail -n 30 "$tmp/debootstrap/debootstrap.log" >&2
  rm -f "$log"
  echo "rootfs.sh: debootstrap failed after $(elapsed)" >&2
  exit 1
fi
rm -f "$log"
# debootstrap of trixie (with the host's bookworm debootstrap) can leave its /proc mount behind: a
# mount inside the cached tree would follow it everywhere (du, rm -rf, the overlay's lower layer).
awk -v p="$tmp/" 'index($2 "/", p) == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
echo "rootfs.sh: debootstrap done ($(elapsed))"

in_root() { chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# The image's sources (build/provision.sh: $SUITE, -updates, -security) and their upgrades, so the rig
# runs the package versions the image carries (haproxy's security fixes come through -security).
security=${DEBIAN_SECURITY_MIRROR:-$(mirror_for "$SUITE-security")}
security=${security:-${mirror%/debian}/debian-security}
printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
  "$mirror" "$SUITE" "$mirror" "$SUITE" "$security" "$SUITE" >"$tmp/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d" && chmod 0755 "$tmp/usr/sbin/policy-rc.d"
rm -f "$tmp/etc/resolv.conf" && cp -L /etc/resolv.conf "$tmp/etc/resolv.conf"
mount -t proc proc "$tmp/proc"
upgraded=0
in_root apt-get update -qq >"$log" 2>&1 &&
  in_root env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq -o Dpkg::Options::=--force-confold >>"$log" 2>&1 ||
  upgraded=$?
umount -l "$tmp/proc"
rm -f "$tmp/usr/sbin/policy-rc.d"
if [ "$upgraded" != 0 ]; then
  tail -n 30 "$log" >&2
  echo "rootfs.sh: apt-get upgrade from $SUITE-updates and $SUITE-security failed after $(elapsed)" >&2
  exit 1
fi
rm -f "$log"
echo "rootfs.sh: upgraded from $SUITE-updates and $SUITE-security ($(elapsed))"

# --- fixes a container boot needs -------------------------------------------------------------
# networkd configures the appliance's links (ovactl renders its .network files); resolved is not
# installed, so nothing else claims DNS.
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
# The appliance starts haproxy only once ovactl has written a valid configuration, BIRD only with
# route health injection, keepalived only with two appliances (ha.*): the Debian packages enable all
# three, which the image does not want.
in_root systemctl disable haproxy.service bird.service keepalived.service >/dev/null 2>&1 || true
# Units with nothing to do in a container (no udev, no hardware clock, no real consoles); masking
# them keeps the boot short and `systemctl is-system-running` free of failures the appliance
# would not have.
in_root systemctl mask \
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
  systemd-udev-trigger.service systemd-udev-settle.service \
  systemd-hwdb-update.service \
  getty@tty1.service serial-getty@.service \
  apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer \
  >/dev/null 2>&1 || true
# No password for root (console login in a debugging session: machinectl shell / nsenter).
in_root passwd -d root >/dev/null
echo "appliance-rig" >"$tmp/etc/hostname"
# (the image's sources, written above, stay: for anyone who wants to apt-get install in a kept rootfs)
# Leave a fresh machine-id for every boot (systemd creates a transient one when empty).
: >"$tmp/etc/machine-id"
rm -f "$tmp/var/lib/dbus/machine-id"
# Smaller tree: no package cache, lists or docs (nothing in the tests needs them).
in_root apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/locale/*
in_root node --version >"$tmp/.node-version"

printf '%s\nbuilt %s from %s\n' "$RECIPE" "$(date -u +%FT%TZ)" "$mirror" >"$tmp/.complete"
# Swap in the new tree (a rootfs of an older recipe goes).
[ -e "$ROOTFS" ] && mv "$ROOTFS" "$ROOTFS.old.$$"
mv "$tmp" "$ROOTFS"
trap - EXIT
rm -rf "$ROOTFS.old.$$"
echo "rootfs.sh: rootfs ready in $(elapsed) (node $(cat "$ROOTFS/.node-version"), $(du -sh "$ROOTFS" | cut -f1))"
