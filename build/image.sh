#!/usr/bin/env bash
# build/image.sh OUTDIR — the offline appliance build (no loop devices, no VM):
#
#   debootstrap trixie (Debian 13, cached under .cache/image/) → build/provision.sh (the one recipe)
#   → a GPT disk image assembled from partition images:
#       1  EFI system partition (FAT32, mkfs.vfat + mtools): \EFI\BOOT\BOOTX64.EFI, a standalone GRUB
#          (grub-mkstandalone, from the image's own grub-efi-amd64-bin) with an embedded config
#       2  root (ext4, mkfs.ext4 -d, fixed UUID): GRUB loads /vmlinuz and /initrd.img from it, so
#          a kernel update inside the appliance (apt) boots without touching the ESP
#     sfdisk on the image file, dd conv=notrunc of each partition at its offset
#   → OUTDIR/disk.raw (sparse; the VM test boots qcow2 overlays on it, packer.json's qemu builder boots it)
#   → OUTDIR/haproxy-appliance-disk1.vmdk (qemu-img convert -O vmdk -o subformat=streamOptimized)
#   → OUTDIR/haproxy-appliance.ova (build/ova.sh)
#
# The disk boots with EFI firmware (OVMF under qemu; firmware=efi in vSphere). Console:
# console=ttyS0,115200 console=tty0 (the VGA console is /dev/console, the serial port gets a getty).
#
# Rebuilds are fast: the debootstrap base is a tarball in the cache and downloaded .debs are kept.
# An OUTDIR whose stamp matches every input (recipe, units, dist/ovactl.js, …) is left as it is
# ("up to date"); OVACTL_IMAGE_FORCE=1 rebuilds anyway. Prints the build time and the sizes, and
# writes them to OUTDIR/build.json.
#
# Environment: OVACTL_IMAGE_CACHE (default .cache/image), OVACTL_DISK_GIB (default 8),
# DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR (default: this machine's APT sources), DATAPLANEAPI=PATH|none
# (passed to provision.sh; unset: download the pinned release), OVACTL_IMAGE_FORCE=1.
# Exit status: 0 built (or up to date), 1 failed, 77 a build tool is missing and cannot be installed.
set -euo pipefail

OUT=$(realpath -m "${1:?usage: build/image.sh OUTDIR}")
here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$(realpath -m "${OVACTL_IMAGE_CACHE:-$here/.cache/image}")
SUITE=trixie
NAME=haproxy-appliance
GIB=${OVACTL_DISK_GIB:-8}
ESP_MIB=64
# Fixed identifiers: the kernel command line and fstab name the root by UUID.
ROOT_UUID=6c1b5c4e-3f0a-4d59-9a61-0a7ec7a11001
ESP_VOLID=0A7EC7A1
DISK_GUID=6c1b5c4e-3f0a-4d59-9a61-0a7ec7a11000
ESP_PARTUUID=6c1b5c4e-3f0a-4d59-9a61-0a7ec7a11002
ROOT_PARTUUID=6c1b5c4e-3f0a-4d59-9a61-0a7ec7a11003
CMDLINE="root=UUID=$ROOT_UUID ro console=ttyS0,115200n8 console=tty0"
# Bump when the base (debootstrap) step changes.
BASE_RECIPE="ovactl-image-base 1 $SUITE minbase"

start=$(date +%s%N)
secs() { echo "$(( ($(date +%s%N) - start) / 1000000000 ))"; }
say() { echo "image: $* ($(secs) s)"; }
die() { echo "image: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "image: must run as root (debootstrap, systemd-nspawn, file ownership)" >&2; exit 77; }
[ -f "$here/dist/ovactl.js" ] || die "dist/ovactl.js is missing: run npm run build first"

# --- build tools ---------------------------------------------------------------------------------
need=()
for pair in debootstrap:debootstrap mcopy:mtools mkfs.vfat:dosfstools qemu-img:qemu-utils sfdisk:fdisk \
  systemd-nspawn:systemd-container mkfs.ext4:e2fsprogs flock:util-linux; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  echo "image: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } ||
      { echo "image: cannot install ${need[*]}" >&2; exit 77; }
  fi
fi

# --- the Debian mirrors of this machine ---------------------------------------------------------
# shellcheck source=build/mirror.sh
. "$here/build/mirror.sh"
MIRROR=${DEBIAN_MIRROR:-$(mirror_for "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-$(mirror_for "$SUITE-security")}
SECURITY=${SECURITY:-${MIRROR%/debian}/debian-security}

# --- up to date? ---------------------------------------------------------------------------------
mkdir -p "$CACHE" "$OUT"
inputs_key() {
  {
    echo "$BASE_RECIPE $MIRROR $SECURITY $GIB $CMDLINE"
    cd "$here"
    find build/provision.sh build/image.sh build/mirror.sh build/ova.sh build/install.sh build/dataplaneapi.sh build/dataplaneapi.pin build/image build/systemd dist/ovactl.js examples/appliance.json \
      -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum
    dp=${DATAPLANEAPI-${DATAPLANEAPI_BIN-}}
    echo "dataplaneapi=$dp"
    [ -n "$dp" ] && [ -f "$dp" ] && sha256sum <"$dp"
    true
  } | sha256sum | cut -c1-32
}
KEY=$(inputs_key)
outputs=("$OUT/disk.raw" "$OUT/$NAME-disk1.vmdk" "$OUT/$NAME.ova" "$OUT/build.json")
up_to_date() {
  [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$KEY" ] || return 1
  local f
  for f in "${outputs[@]}"; do [ -s "$f" ] || return 1; done
}
if [ "${OVACTL_IMAGE_FORCE:-0}" != 1 ] && up_to_date; then
  echo "image: $OUT is up to date (inputs $KEY); OVACTL_IMAGE_FORCE=1 rebuilds"
  exit 0
fi

# One build at a time per cache (a test and a bench started together).
exec 9>"$CACHE/image.lock"
flock 9
if [ "${OVACTL_IMAGE_FORCE:-0}" != 1 ] && up_to_date; then
  echo "image: $OUT was built by a concurrent run"
  exit 0
fi

# --- work folder; leftovers of crashed runs ------------------------------------------------------
mounts_under() { awk -v p="$1/" 'index($2 "/", p) == 1 { print $2 }' /proc/self/mounts | sort -r; }
release() { # unmount whatever a crashed provision left under $1, then delete it
  local dir=$1 m
  for m in $(mounts_under "$dir"); do umount -l "$m" 2>/dev/null || true; done
  if [ -n "$(mounts_under "$dir")" ]; then echo "image: $dir still has mounts; left in place" >&2; return 0; fi
  rm -rf "$dir"
}
for old in "$CACHE"/work.*; do
  [ -d "$old" ] || continue
  pid=${old##*.}
  if [ -d "/proc/$pid" ] && [ "$pid" != $$ ]; then continue; fi
  release "$old"
done
work="$CACHE/work.$$"
mkdir -p "$work"
trap 'release "$work"' EXIT
root="$work/root"

# --- base: debootstrap, cached as a tarball ------------------------------------------------------
base_key=$(echo "$BASE_RECIPE $MIRROR" | sha256sum | cut -c1-16)
base="$CACHE/base-$base_key.tar"
base_cached=true
if [ ! -s "$base" ]; then
  base_cached=false
  say "debootstrap $SUITE from $MIRROR (the base is cached afterwards)"
  mkdir -p "$CACHE/debs" "$work/base"
  if ! debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$work/base" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  # (the host's debootstrap can leave its /proc mount in a trixie tree: never into the tarball)
  for m in $(mounts_under "$work/base"); do umount -l "$m"; done
  tar -C "$work/base" --numeric-owner --xattrs --xattrs-include='*' -cpf "$base.tmp" .
  mv "$base.tmp" "$base"
  rm -rf "$work/base"
  for stale in "$CACHE"/base-*.tar; do [ "$stale" = "$base" ] || rm -f "$stale"; done
  say "base cached ($(du -h "$base" | cut -f1))"
fi
mkdir -p "$root"
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"
say "base unpacked"

# --- the recipe ----------------------------------------------------------------------------------
mkdir -p "$CACHE/archives/partial"
DEBIAN_MIRROR=$MIRROR DEBIAN_SECURITY_MIRROR=$SECURITY APT_ARCHIVES="$CACHE/archives" PROVISION_LOG="$work/apt.log" \
  bash "$here/build/provision.sh" "$root" || { [ -f "$work/apt.log" ] && tail -n 40 "$work/apt.log" >&2; die "build/provision.sh failed"; }
# Drop .debs no longer referenced (old versions) so the cache does not grow without bound.
find "$CACHE/archives" -maxdepth 1 -name '*.deb' -mtime +30 -delete 2>/dev/null || true
say "provisioned"

# --- the disk's own files: fstab, boot loader ----------------------------------------------------
cat >"$root/etc/fstab" <<FSTAB
# The appliance's disk (build/image.sh): one ext4 root; the EFI system partition holds only the boot
# loader, which reads the kernel from here, so it is not mounted.
UUID=$ROOT_UUID	/	ext4	errors=remount-ro	0	1
FSTAB
[ -e "$root/vmlinuz" ] && [ -e "$root/initrd.img" ] || die "the root has no /vmlinuz and /initrd.img symlinks"

# GRUB: standalone EFI binary, modules from the image (its grub-efi-amd64-bin), config embedded.
# (Not under the root's /tmp: systemd-nspawn mounts a tmpfs there.)
mkdir -p "$work/esp"
cat >"$work/esp/grub.cfg" <<CFG
# build/image.sh: boot the appliance's kernel from its root file system; no menu.
set timeout=0
set default=0
insmod all_video
set gfxpayload=keep
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry "HAProxy load-balancer appliance" {
  linux /vmlinuz $CMDLINE
  initrd /initrd.img
}
CFG
grub_modules="part_gpt fat ext2 search search_fs_uuid normal linux configfile echo test all_video efi_gop efi_uga video_bochs video_cirrus gfxterm font gzio zstd"
systemd-nspawn --quiet --pipe --register=no --keep-unit --as-pid2 --timezone=off --link-journal=no --resolv-conf=off \
  --private-network -D "$root" --bind="$work/esp:/ovactl-esp" -- \
  grub-mkstandalone --format=x86_64-efi --output=/ovactl-esp/BOOTX64.EFI \
  --modules="$grub_modules" --install-modules="$grub_modules memdisk tar" --locales= --fonts= --themes= \
  "boot/grub/grub.cfg=/ovactl-esp/grub.cfg" >"$work/grub.log" 2>&1 || { cat "$work/grub.log" >&2; die "grub-mkstandalone failed"; }
rmdir "$root/ovactl-esp" 2>/dev/null || true
# grub-mkstandalone takes a missing config silently: check that the binary carries ours.
grep -aq "search --no-floppy --fs-uuid --set=root $ROOT_UUID" "$work/esp/BOOTX64.EFI" || die "BOOTX64.EFI does not carry the boot config"
say "boot loader: BOOTX64.EFI $(stat -c %s "$work/esp/BOOTX64.EFI") bytes"

# --- partition images ----------------------------------------------------------------------------
sector=512
disk_bytes=$((GIB * 1024 * 1024 * 1024))
esp_start=2048                                   # 1 MiB
esp_sectors=$((ESP_MIB * 2048))
root_start=$((esp_start + esp_sectors))
# Up to the backup GPT (33 sectors at the end), rounded down to 1 MiB.
root_sectors=$(( ((disk_bytes / sector - 34 - root_start) / 2048) * 2048 ))

truncate -s $((esp_sectors * sector)) "$work/esp.img"
mkfs.vfat -F 32 -S 512 -s 1 -n EFI -i "$ESP_VOLID" "$work/esp.img" >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/esp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

truncate -s $((root_sectors * sector)) "$work/root.img"
mkfs.ext4 -q -F -L appliance-root -U "$ROOT_UUID" -E lazy_itable_init=0,lazy_journal_init=0 -d "$root" "$work/root.img"
e2fsck -fn "$work/root.img" >/dev/null 2>&1 || { e2fsck -fn "$work/root.img" >&2 || true; die "the new root file system does not check clean"; }
root_used=$(du -sb --apparent-size "$root" | cut -f1)
say "partitions: ESP $ESP_MIB MiB, root $((root_sectors / 2048)) MiB ($((root_used / 1048576)) MiB of files)"

truncate -s "$disk_bytes" "$work/disk.raw"
sfdisk --quiet --no-reread --no-tell-kernel "$work/disk.raw" <<SFDISK
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: 2048
start=$esp_start, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="EFI system"
start=$root_start, size=$root_sectors, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_PARTUUID, name="root"
SFDISK
dd if="$work/esp.img" of="$work/disk.raw" bs=1M seek=$((esp_start * sector / 1048576)) conv=notrunc,sparse status=none
dd if="$work/root.img" of="$work/disk.raw" bs=1M seek=$((root_start * sector / 1048576)) conv=notrunc,sparse status=none
rm -f "$work/esp.img" "$work/root.img"
say "disk image assembled"

# --- outputs -------------------------------------------------------------------------------------
rm -f "$OUT/.stamp" "${outputs[@]}"
qemu-img convert -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic "$work/disk.raw" "$work/$NAME-disk1.vmdk"
say "streamOptimized VMDK"
mv "$work/disk.raw" "$OUT/disk.raw"
mv "$work/$NAME-disk1.vmdk" "$OUT/$NAME-disk1.vmdk"
bash "$here/build/ova.sh" "$OUT/$NAME-disk1.vmdk" "$OUT/$NAME.ova"

seconds=$(secs)
raw_alloc=$(( $(stat -c %b "$OUT/disk.raw") * $(stat -c %B "$OUT/disk.raw") ))
vmdk=$(stat -c %s "$OUT/$NAME-disk1.vmdk")
ova=$(stat -c %s "$OUT/$NAME.ova")
cat >"$OUT/build.json" <<JSON
{"seconds": $seconds, "baseCached": $base_cached, "diskGiB": $GIB, "rootFilesBytes": $root_used, "rawAllocatedBytes": $raw_alloc, "vmdkBytes": $vmdk, "ovaBytes": $ova, "inputs": "$KEY", "builtAt": "$(date -u +%FT%TZ)"}
JSON
echo "$KEY" >"$OUT/.stamp"
mib() { echo "$(( ($1 + 524288) / 1048576 )) MiB"; }
echo "image: built in ${seconds} s (debootstrap base $([ "$base_cached" = true ] && echo cached || echo built))"
echo "image: $OUT/disk.raw  ${GIB} GiB disk, $(mib "$raw_alloc") allocated ($(mib "$root_used") of files)"
echo "image: $OUT/$NAME-disk1.vmdk  $(mib "$vmdk") ($vmdk bytes)"
echo "image: $OUT/$NAME.ova  $(mib "$ova") ($ova bytes)"
