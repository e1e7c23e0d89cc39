#!/usr/bin/env bash
# Installs ovactl into a root file system: the bundle, the command, the units. Used by the image
# recipe and by the boot tests. Usage: build/install.sh ROOT   (ROOT=/ on a running system)
set -euo pipefail
root=${1:?usage: build/install.sh ROOT}
here=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$here/dist/ovactl.js" ] || { echo "build/install.sh: run npm run build first" >&2; exit 1; }

install -D -m 0755 "$here/dist/ovactl.js" "$root/usr/lib/ovactl/ovactl.js"
# Code caches belong to one bundle (their names carry its chunks' hashes): the recipe makes new ones.
rm -rf "$root/usr/lib/ovactl/code-cache"
# No package.json above /usr/lib/ovactl: Node treats the bundle as CommonJS, as built.
install -d -m 0755 "$root/usr/bin"
cat > "$root/usr/bin/ovactl" <<'SH'
#!/bin/sh
exec /usr/bin/node /usr/lib/ovactl/ovactl.js "$@"
SH
chmod 0755 "$root/usr/bin/ovactl"
for unit in "$here"/build/systemd/*.service "$here"/build/systemd/*.timer; do
  install -D -m 0644 "$unit" "$root/etc/systemd/system/$(basename "$unit")"
done
for dropin in "$here"/build/systemd/*.service.d/*.conf; do
  install -D -m 0644 "$dropin" "$root/etc/systemd/system/$(basename "$(dirname "$dropin")")/$(basename "$dropin")"
done
# The haproxy unit loads ovactl-metrics.cfg after haproxy.cfg (haproxy.service.d): "off" until first boot.
install -D -m 0600 /dev/stdin "$root/etc/haproxy/ovactl-metrics.cfg" <<'TXT'
# Written by the image build; first boot rewrites it. Metrics are off (appliance.metrics_port is not set).
TXT
# udev names the NICs before first boot runs: the .link files are part of the image.
node "$here/dist/ovactl.js" links --root "$root" >/dev/null
install -d -m 0700 "$root/var/lib/ovactl"
install -d -m 0755 "$root/etc/ovactl" "$root/etc/issue.d" "$root/etc/vmware"
install -D -m 0644 /dev/stdin "$root/etc/iproute2/rt_protos.d/ovactl.conf" <<'TXT'
# Routes of the anyip-routes service (ovactl anyip).
252	anyip
# Policy rules of the route-tables service (ovactl route-tables).
251	routetables
TXT

# First boot enables and starts the data plane only when the values are valid.
enable() { mkdir -p "$root/etc/systemd/system/$2"; ln -sf "/etc/systemd/system/$1" "$root/etc/systemd/system/$2/$1"; }
enable ovactl-firstboot.service multi-user.target.wants
# The daily renewal check of the Data Plane API certificate (ovactl certificates renew).
enable ovactl-certificates.timer timers.target.wants
# The live status after boot; it leaves the status alone until first boot and ovactl-ready have spoken.
enable ovactl-watch.service multi-user.target.wants
# Debian's bird2 enables bird.service when installed; it runs only with route health injection.
# Debian's rsyslog enables rsyslog.service likewise; it runs only with log forwarding (appliance.syslog_server).
# Debian's keepalived likewise; it runs only with two appliances (ha.*: VRRP moves the management address).
for unit in haproxy.service dataplaneapi.service anyip-routes.service route-tables.service ovactl-rhi.service \
  bird.service rsyslog.service keepalived.service; do
  rm -f "$root/etc/systemd/system/multi-user.target.wants/$unit"
done

# The paths the AnyIP guide's troubleshooting steps name.
install -D -m 0755 /dev/stdin "$root/var/lib/vmware/anyiproutectl.sh" <<'SH'
#!/bin/sh
# Kept for the documented troubleshooting steps; the work is done by "ovactl anyip".
case "$1" in
  up|down|watch) exec /usr/bin/ovactl anyip "$@" ;;
  *) echo "usage: $0 up|down|watch" >&2; exit 2 ;;
esac
SH
install -D -m 0755 /dev/stdin "$root/var/lib/vmware/routetablectl.sh" <<'SH'
#!/bin/sh
# Kept for the documented troubleshooting steps; the work is done by "ovactl route-tables".
case "$1" in
  up|down|watch) exec /usr/bin/ovactl route-tables "$@" ;;
  *) echo "usage: $0 up|down|watch" >&2; exit 2 ;;
esac
SH
