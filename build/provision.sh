#!/usr/bin/env bash
# build/provision.sh ROOT — the appliance recipe: the one provisioning step every image path runs.
#
#   ROOT=/      on a running Debian 13 system (a packer vsphere-iso or qemu build VM, over SSH)
#   ROOT=DIR    on a debootstrapped Debian 13 tree (build/image.sh): the package steps run inside
#               it with systemd-nspawn (chroot with /proc, /sys, /dev mounted when nspawn is missing)
#
# What it does, in order: Debian packages (haproxy 3.0, bird2, Node 20 from Debian, open-vm-tools, the
# kernel and its initramfs with the drivers of a vSphere VM and of qemu, GRUB's EFI modules), ovactl
# with its units and .link files (build/install.sh), the Data Plane API binary when one is given,
# hardening, the serial and tty1 consoles, and sysprep at the end (machine-id, SSH host keys made
# at first boot, logs, caches). The boot loader and /etc/fstab belong to the disk, not to the
# recipe: build/image.sh writes them (a packer vsphere-iso VM has the installer's).
#
# Environment (all optional):
#   DATAPLANEAPI=PATH|none     the HAProxy Data Plane API: a release tarball or binary, or none; unset:
#                              download the release pinned in build/dataplaneapi.pin (online builds)
#   DEBIAN_MIRROR=URL          write the image's APT sources for this mirror (trixie, -updates) ...
#   DEBIAN_SECURITY_MIRROR=URL ... and this one for trixie-security (default: the mirror's
#                              sibling /debian-security); without DEBIAN_MIRROR the sources are kept
#   APT_ARCHIVES=DIR           a host folder used as /var/cache/apt/archives (a .deb cache across builds)
#   PROVISION_SKIP_SYSPREP=1   leave out the sysprep step (debugging)
set -euo pipefail

ROOT=${1:?usage: build/provision.sh ROOT}
[ "$ROOT" = / ] || ROOT=$(realpath "$ROOT")
here=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
say() { echo "provision: $* ($(( $(date +%s) - start )) s)"; }
die() { echo "provision: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -f "$here/dist/ovactl.js" ] || die "dist/ovactl.js is missing: run npm run build first"
[ -x "$ROOT/usr/bin/apt-get" ] || die "$ROOT is not a Debian root (no /usr/bin/apt-get)"
grep -q '^VERSION_CODENAME=trixie' "$ROOT/etc/os-release" 2>/dev/null || die "$ROOT is not Debian 13 (trixie)"
dpapi=${DATAPLANEAPI-${DATAPLANEAPI_BIN-}}
if [ -n "$dpapi" ] && [ "$dpapi" != none ]; then [ -f "$dpapi" ] || die "DATAPLANEAPI=$dpapi is not a file"; fi

# The appliance's packages. --no-install-recommends: everything needed is named here.
PACKAGES=(
  # the system: systemd with networkd (ovactl renders its .network files) and resolved (their DNS=)
  systemd systemd-sysv systemd-timesyncd systemd-resolved udev dbus kmod netbase
  # the data plane and route health injection
  haproxy bird2 iproute2 iputils-ping iputils-arping openssl
  # log forwarding (appliance.syslog_server): rsyslog reads the journal, rsyslog-gnutls speaks tls://
  rsyslog rsyslog-gnutls
  # two appliances: VRRP moves the floating management address (ha.*)
  keepalived
  # ovactl's runtime: Debian's Node 20 (the bundle targets Node 18.20, for admins' workstations too)
  nodejs ca-certificates
  # vSphere: guestinfo (the OVF environment, the status), clean shutdown, the console
  open-vm-tools
  openssh-server
  # boot: the kernel, an initramfs with the storage drivers of vSphere and qemu, GRUB's EFI modules
  # (build/image.sh makes a standalone BOOTX64.EFI from them)
  linux-image-amd64 initramfs-tools zstd grub-efi-amd64-bin
  # an admin's first aid on the console
  less vim-tiny procps
)

# --- running commands in ROOT --------------------------------------------------------------------
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

use_nspawn=0
if [ "$ROOT" != / ] && command -v systemd-nspawn >/dev/null; then use_nspawn=1; fi

# in_root [--net] CMD...: run CMD in ROOT with a clean environment; --net: it needs the network (apt).
in_root() {
  local net=0
  [ "$1" = --net ] && { net=1; shift; }
  local env=(PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true)
  if [ "$ROOT" = / ]; then
    env -i "${env[@]}" "$@"
  elif ((use_nspawn)); then
    local args=(--quiet --pipe --register=no --keep-unit --as-pid2 --timezone=off --link-journal=no -D "$ROOT")
    ((net)) && args+=(--resolv-conf=replace-host) || args+=(--resolv-conf=off --private-network)
    [ -n "${APT_ARCHIVES:-}" ] && args+=("--bind=$APT_ARCHIVES:/var/cache/apt/archives")
    local e
    for e in "${env[@]}"; do args+=(--setenv="$e"); done
    # (nspawn outside a systemd-run host warns about its propagation folder on exit: noise)
    systemd-nspawn "${args[@]}" -- "$@" 2> >(grep -v 'Attempted to remove disk file system' >&2)
  else
    if ((${#mounted[@]} == 0)); then
      local m
      for m in proc sys dev dev/pts; do
        mkdir -p "$ROOT/$m"
        case $m in
          proc) mount -t proc proc "$ROOT/proc" ;;
          sys) mount -t sysfs sys "$ROOT/sys" ;;
          dev) mount --bind /dev "$ROOT/dev" ;;
          dev/pts) mount -t devpts devpts "$ROOT/dev/pts" ;;
        esac
        mounted+=("$ROOT/$m")
      done
      if [ -n "${APT_ARCHIVES:-}" ]; then
        mount --bind "$APT_ARCHIVES" "$ROOT/var/cache/apt/archives"
        mounted+=("$ROOT/var/cache/apt/archives")
      fi
    fi
    ((net)) && { rm -f "$ROOT/etc/resolv.conf"; cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"; }
    chroot "$ROOT" /usr/bin/env -i "${env[@]}" "$@"
  fi
}

# --- packages ------------------------------------------------------------------------------------
# No service starts while the packages install (ROOT=/ included): policy-rc.d says no.
if [ -e "$ROOT/usr/sbin/policy-rc.d" ]; then die "$ROOT/usr/sbin/policy-rc.d exists: a provisioning run in progress?"; fi
install -D -m 0755 /dev/stdin "$ROOT/usr/sbin/policy-rc.d" <<'SH'
#!/bin/sh
# build/provision.sh: no service starts while the image is built.
exit 101
SH
trap 'rm -f "$ROOT/usr/sbin/policy-rc.d"; cleanup' EXIT

# Smaller image: no manuals, docs or translations (copyright files stay).
install -D -m 0644 /dev/stdin "$ROOT/etc/dpkg/dpkg.cfg.d/90-ovactl-nodoc" <<'CFG'
# The appliance image carries no documentation (build/provision.sh).
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
CFG

if [ -n "${DEBIAN_MIRROR:-}" ]; then
  security=${DEBIAN_SECURITY_MIRROR:-${DEBIAN_MIRROR%/debian}/debian-security}
  rm -f "$ROOT/etc/apt/sources.list"
  install -D -m 0644 /dev/stdin "$ROOT/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $DEBIAN_MIRROR
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

# The initramfs carries the storage drivers of any VM (vSphere pvscsi/LSI, virtio, AHCI/PIIX,
# NVMe): MODULES=most, Debian's default, made explicit; zstd-compressed.
install -D -m 0644 /dev/stdin "$ROOT/etc/initramfs-tools/conf.d/90-ovactl.conf" <<'CFG'
# build/provision.sh: the image boots on vSphere (pvscsi, LSI, vmxnet3) and on qemu (virtio, AHCI).
MODULES=most
COMPRESS=zstd
CFG
# Explicit, in case MODULES=most ever drops one of them.
mkdir -p "$ROOT/etc/initramfs-tools"
touch "$ROOT/etc/initramfs-tools/modules"
for m in vmw_pvscsi mptspi mptsas vmxnet3 virtio_pci virtio_scsi virtio_blk virtio_net ahci ata_piix sd_mod sr_mod ext4; do
  grep -qx "$m" "$ROOT/etc/initramfs-tools/modules" || echo "$m" >>"$ROOT/etc/initramfs-tools/modules"
done

apt_opts=(-y -qq --no-install-recommends -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
  -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io)
apt_log=${PROVISION_LOG:-/dev/null}
apt_failed() { echo "provision: apt-get $1 failed; rerun with PROVISION_LOG=FILE for the log" >&2; exit 1; }
KERNEL=linux-image-amd64
kernel_before=$(in_root dpkg-query -W -f '${Status}' "$KERNEL" 2>/dev/null | grep -c 'ok installed' || true)

say "apt-get update"
in_root --net apt-get update -qq
# Every download first: systemd-resolved (installed below) makes /etc/resolv.conf its stub, which
# does not run during the build. A Debian installer's system (packer vsphere-iso) is upgraded too.
in_root --net apt-get upgrade "${apt_opts[@]}" >>"$apt_log" || apt_failed upgrade
in_root --net apt-get install --download-only "${apt_opts[@]}" "${PACKAGES[@]}" >>"$apt_log" || apt_failed download
say "installing ${#PACKAGES[@]} packages"
# The kernel comes last, after ovactl's .link files: its initramfs is made once, and carries them.
non_kernel=()
for p in "${PACKAGES[@]}"; do [ "$p" = "$KERNEL" ] || non_kernel+=("$p"); done
in_root apt-get install "${apt_opts[@]}" "${non_kernel[@]}" >>"$apt_log" || apt_failed install
# The network is systemd-networkd's: a Debian installer's ifupdown (packer vsphere-iso) goes.
if in_root dpkg-query -W -f '${Status}' ifupdown 2>/dev/null | grep -q 'ok installed'; then
  in_root apt-get purge "${apt_opts[@]}" ifupdown isc-dhcp-client >>"$apt_log" 2>&1 || true
fi

# --- ovactl --------------------------------------------------------------------------------------
bash "$here/build/install.sh" "$ROOT"
# The Data Plane API (pinned in build/dataplaneapi.pin): downloaded and verified, a local file, or
# none (said explicitly); it must run and be 2.3 <= v < 3. Its version goes into build-info.json.
bash "$here/build/dataplaneapi.sh" install "$ROOT" || die "the Data Plane API step failed (see above)"
say "Data Plane API: $(cat "$ROOT/usr/lib/ovactl/build-info.json")"
# The V8 code cache of first boot's code (build/chunk-loader.cjs), made by the image's own Node with
# one first boot into a scratch folder: the real first boot then skips parsing and compiling most of
# it (bench/apply.mjs has the figures). A cache the image's Node would not take is simply not used.
if [ -f "$here/examples/appliance.json" ]; then
  rm -rf "$ROOT/var/tmp/ovactl-warm" # a fresh first boot (a leftover state.json would make it "no changes")
  install -D -m 0600 "$here/examples/appliance.json" "$ROOT/var/tmp/ovactl-warm/values.json"
  # Exit 1 is a first boot that ran to its end with findings (the scratch root carries no Data Plane
  # API): its code is compiled and cached all the same. Anything else is a failure of the run itself.
  warm=0
  in_root env OVACTL_WRITE_CODE_CACHE=1 /usr/bin/ovactl firstboot --env /var/tmp/ovactl-warm/values.json \
    --root /var/tmp/ovactl-warm/root >/dev/null || warm=$?
  [ "$warm" -le 1 ] || die "the code cache run (ovactl firstboot into a scratch root) failed (exit $warm)"
  rm -rf "$ROOT/var/tmp/ovactl-warm"
  ls "$ROOT"/usr/lib/ovactl/code-cache/commands-*.v8 >/dev/null 2>&1 || die "no code cache was written"
else
  say "no examples/appliance.json beside the recipe: no code cache (first boot compiles its code)"
fi
say "ovactl installed"

say "installing the kernel"
in_root apt-get install "${apt_opts[@]}" "$KERNEL" >>"$apt_log" || apt_failed "install $KERNEL"
# A kernel that was there already (a Debian installer's) gets the new initramfs configuration now.
[ "$kernel_before" = 0 ] || in_root update-initramfs -u -k all >>"$apt_log" 2>&1
initrd_files=$(in_root sh -c 'for i in /boot/initrd.img-*; do lsinitramfs "$i"; done')
for m in vmw_pvscsi mptspi vmxnet3 virtio_scsi virtio_blk ahci ata_piix ext4; do
  grep -q "/$m\.ko" <<<"$initrd_files" || die "the initramfs lacks $m.ko"
done
grep -q '10-ovactl-management\.link' <<<"$initrd_files" || die "the initramfs lacks the .link files"
say "packages installed ($(in_root dpkg-query -W -f '.' | wc -c) in all, node $(in_root node --version))"

# --- services ------------------------------------------------------------------------------------
# systemd-networkd and resolved configure the NICs from what first boot writes; ifupdown is not
# installed. bird stays off until route health injection configures it (its stock config peers with
# nothing). haproxy, anyip-routes and the Data Plane API are started by first boot (install.sh).
in_root systemctl enable systemd-networkd.service systemd-resolved.service ssh.service >/dev/null 2>&1
in_root systemctl disable bird.service >/dev/null 2>&1 || true
# Nothing runs behind the admin's back: no unattended apt, no e2scrub (LVM snapshots the appliance
# does not have; its reaper alone costs seconds at every boot).
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service >/dev/null 2>&1 || true

# SSH host keys: removed by sysprep, made at first boot (every appliance has its own).
install -D -m 0644 "$here/build/image/systemd/ovactl-ssh-hostkeys.service" "$ROOT/etc/systemd/system/ovactl-ssh-hostkeys.service"
in_root systemctl enable ovactl-ssh-hostkeys.service >/dev/null 2>&1

# --- hardening -----------------------------------------------------------------------------------
# Not a router (first boot writes the same into /etc/sysctl.d/90-ovactl.conf).
install -D -m 0644 /dev/stdin "$ROOT/etc/sysctl.d/80-ovactl-image.conf" <<'CFG'
# build/provision.sh: the appliance does not route between its networks.
net.ipv4.ip_forward = 0
net.ipv6.conf.all.forwarding = 0
CFG
# sshd: first boot writes /etc/ssh/sshd_config.d/50-ovactl.conf (ListenAddress = the management
# address, PermitRootLogin) before ssh.service starts. Until then (and when the management values are
# invalid) no password login for root over SSH; the console always works.
install -D -m 0644 /dev/stdin "$ROOT/etc/ssh/sshd_config.d/90-ovactl-image.conf" <<'CFG'
# build/provision.sh: defaults under first boot's 50-ovactl.conf (the first value of a keyword wins).
PermitRootLogin prohibit-password
X11Forwarding no
CFG

# resolved is the stub resolver for the DNS servers first boot gives networkd; it answers nobody
# else: no LLMNR or multicast DNS responder on the appliance's networks.
install -D -m 0644 /dev/stdin "$ROOT/etc/systemd/resolved.conf.d/80-ovactl-image.conf" <<'CFG'
# build/provision.sh: no name-service responders on the appliance's networks.
[Resolve]
LLMNR=no
MulticastDNS=no
CFG

# --- consoles ------------------------------------------------------------------------------------
# The kernel command line names console=ttyS0 and console=tty0: systemd's getty generator starts
# serial-getty@ttyS0 when the VM has that serial port; getty@tty1 is systemd's default. Both print
# /etc/issue and /etc/issue.d/*.issue, where first boot puts the appliance's status.
in_root systemctl enable getty@tty1.service >/dev/null 2>&1 || true
printf 'Debian GNU/Linux 13 \\n \\l\n\n' >"$ROOT/etc/issue"
echo haproxy >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\thaproxy\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"

# --- sysprep -------------------------------------------------------------------------------------
if [ "${PROVISION_SKIP_SYSPREP:-0}" = 1 ]; then say "done (no sysprep)"; exit 0; fi
in_root apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/debconf/*-old \
  "$ROOT"/var/lib/dpkg/*-old "$ROOT"/var/backups/*
# Every appliance gets its own machine-id (empty: not a "first boot" for systemd's presets) ...
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT/var/lib/systemd/random-seed" "$ROOT/var/lib/systemd/credential.secret"
# ... and its own SSH host keys (ovactl-ssh-hostkeys.service makes them before sshd starts).
rm -f "$ROOT"/etc/ssh/ssh_host_*
# No password for root until first boot sets the one the admin typed (a build VM's goes), and no
# build-time SSH access (packer's preseed drop-in).
in_root usermod -p '*' root
rm -f "$ROOT/etc/ssh/sshd_config.d/packer.conf"
# resolv.conf is resolved's stub (left by the package), never the build host's.
if [ -e "$ROOT/lib/systemd/systemd-resolved" ]; then ln -sfn ../run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"; else : >"$ROOT/etc/resolv.conf"; fi
# Logs, temporary files, shell history.
find "$ROOT/var/log" -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
find "$ROOT/var/log" -type f -exec truncate -s 0 {} +
rm -rf "$ROOT"/var/log/journal/* "$ROOT"/root/.bash_history "$ROOT"/root/.cache
# (on a running system, systemd-tmpfiles empties /tmp at the next boot; scripts may run from there)
[ "$ROOT" = / ] || rm -rf "$ROOT"/tmp/* "$ROOT"/var/tmp/*
rm -f "$ROOT/usr/sbin/policy-rc.d"
say "done (sysprep: machine-id, SSH host keys, logs, caches)"
