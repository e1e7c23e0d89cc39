#!/usr/bin/env bash
# test/helpers/rig/in-rootfs.sh ROOTFS PROGRAM [ARGS...] — run one program of the appliance's rootfs (the
# image's packages: haproxy 3.0, BIRD 2 of Debian 13) on files of this machine, so that `haproxy -c` and
# `bird -p` check rendered files with the versions the appliance carries, not the host's (Debian 12's
# haproxy 2.6). A mount namespace of its own (nothing is seen outside it) binds /dev, /proc and this
# machine's temporary folder (TMPDIR, default /tmp) at the same paths into ROOTFS, then chroots there:
# the program runs with the rootfs's libraries, OpenSSL configuration and users, and the file names the
# tests pass (all under the temporary folder) stay valid. The rootfs itself is not changed.
# Exit status: the program's; 77 when ROOTFS is not a finished rootfs (test/helpers/rig/rootfs.sh).
set -euo pipefail
ROOTFS=$(realpath -m "${1:?usage: in-rootfs.sh ROOTFS PROGRAM [ARGS...]}")
shift
[ -f "$ROOTFS/.complete" ] || { echo "in-rootfs.sh: no rootfs at $ROOTFS: run test/helpers/rig/rootfs.sh" >&2; exit 77; }
TMP=$(realpath "${TMPDIR:-/tmp}")
[ -d "$ROOTFS$TMP" ] || { echo "in-rootfs.sh: $TMP has no mount point in the rootfs (use /tmp or /var/tmp)" >&2; exit 2; }
export ROOTFS TMP
exec unshare --mount --propagation private -- bash -c '
  set -e
  mount --rbind /dev "$ROOTFS/dev"
  mount -t proc proc "$ROOTFS/proc"
  mount --rbind "$TMP" "$ROOTFS$TMP"
  exec chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
' in-rootfs "$@"
