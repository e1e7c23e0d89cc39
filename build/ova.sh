#!/usr/bin/env bash
# build/ova.sh DISK OUT — the OVA assembly every build path shares (build/image.sh, packer.json).
# build/ova.sh --from-ovf EXPORTDIR OUT — the same from an exported VM (packer vsphere-iso's export:
#   its one .vmdk is the disk; its own descriptor is replaced by ours)
#
# DISK: the appliance's disk in any format qemu-img reads (raw, qcow2, vmdk); one that is not yet a
# streamOptimized VMDK is converted. OUT: the .ova to write, or a folder (then
# OUT/haproxy-appliance.ova). The OVA is a ustar archive holding, in this order (OVF 1.x/2.0
# require the descriptor first):
#   NAME.ovf            the descriptor from the property table: node dist/ovactl.js ovf --disk-file
#                       NAME-disk1.vmdk --disk-capacity GIB --disk-size BYTES
#   NAME.mf             SHA256(file)= digest lines for the .ovf and the .vmdk
#   NAME-disk1.vmdk     the disk, streamOptimized
# NAME is the OVA's base name (haproxy-appliance.ova → haproxy-appliance.ovf, …).
# SOURCE_DATE_EPOCH (default: the last commit's time) fixes the member times: the same inputs give
# the same archive.
set -euo pipefail

usage="usage: build/ova.sh DISK OUT | build/ova.sh --from-ovf EXPORTDIR OUT   (OUT: NAME.ova or a folder)"
here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "ova: $*" >&2; exit 1; }
if [ "${1:-}" = --from-ovf ]; then
  export_dir=${2:?$usage}
  shopt -s nullglob
  vmdks=("$export_dir"/*.vmdk)
  shopt -u nullglob
  ((${#vmdks[@]} == 1)) || die "$export_dir holds ${#vmdks[@]} .vmdk files; expected the appliance's one disk"
  set -- "${vmdks[0]}" "${3:?$usage}"
fi
disk=$(realpath "${1:?$usage}")
ova=$(realpath -m "${2:?$usage}")
if [ -d "$ova" ] || [[ $ova != *.ova ]]; then mkdir -p "$ova"; ova="$ova/haproxy-appliance.ova"; fi

[ -f "$disk" ] || die "$disk is not a file"
[ -f "$here/dist/ovactl.js" ] || die "dist/ovactl.js is missing: run npm run build first"
command -v qemu-img >/dev/null || die "qemu-img is missing (apt-get install qemu-utils)"
node=${NODE:-node}

name=$(basename "$ova" .ova)
vmdk_name="$name-disk1.vmdk"
stage=$(mktemp -d "$(dirname "$ova")/.ova-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

info=$(qemu-img info --output=json "$disk")
# "FORMAT[:create-type] VIRTUAL-SIZE", e.g. "vmdk:streamOptimized 8589934592"
read -r format capacity < <("$node" -e '
  const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const sub = i["format-specific"] && i["format-specific"].data && i["format-specific"].data["create-type"];
  console.log(`${i.format}${sub ? ":" + sub : ""} ${i["virtual-size"]}`);' <<<"$info")
if [ "$format" = "vmdk:streamOptimized" ]; then
  ln "$disk" "$stage/$vmdk_name" 2>/dev/null || cp "$disk" "$stage/$vmdk_name"
else
  echo "ova: converting $disk ($format) to a streamOptimized VMDK"
  qemu-img convert -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic "$disk" "$stage/$vmdk_name"
fi
gib=$(( (capacity + 1073741823) / 1073741824 ))
(( capacity % 1073741824 == 0 )) || echo "ova: the disk's capacity ($capacity bytes) is not whole GiB; the descriptor says $gib GiB" >&2
size=$(stat -c %s "$stage/$vmdk_name")

"$node" "$here/dist/ovactl.js" ovf --output "$stage/$name.ovf" --disk-file "$vmdk_name" --disk-capacity "$gib" --disk-size "$size"
grep -q 'vmw:key="firmware" vmw:value="efi"' "$stage/$name.ovf" ||
  echo "ova: WARNING: the descriptor does not ask for EFI firmware (vmw:Config firmware=efi); the disk boots only with EFI" >&2

(
  cd "$stage"
  for f in "$name.ovf" "$vmdk_name"; do
    echo "SHA256($f)= $(sha256sum "$f" | cut -d' ' -f1)"
  done >"$name.mf"
)

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=0644 --mtime="@$epoch" \
  -C "$stage" -cf "$ova.tmp" "$name.ovf" "$name.mf" "$vmdk_name"
[ "$(tar -tf "$ova.tmp" | tr '\n' ' ')" = "$name.ovf $name.mf $vmdk_name " ] || die "unexpected member order in $ova.tmp"
mv "$ova.tmp" "$ova"
echo "ova: $ova ($name.ovf, $name.mf, $vmdk_name: $gib GiB disk, $size bytes)"
