#!/usr/bin/env bash
# The one test command (docs/development.md, .ci/run): installs what the tests need on a fresh Debian 12 machine,
# builds, type-checks and runs every tap test. Run as root (apt) or with the packages already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: openssl makes real certificates and password hashes; haproxy runs
# the documentation's `haproxy -c` example (the tests check and serve with the appliance's haproxy 3.0,
# from the rig's rootfs); iproute2 and ping drive the AnyIP tests in network namespaces,
# arping the duplicate address detection tests;
# debootstrap and systemd-container boot a Debian 13 appliance in systemd-nspawn; packer validates
# packer.json; bird2 is the router of the route health injection tests (each test starts its own BIRDs,
# with their own config and socket, in network namespaces; the system's bird.service is not used);
# the VM test builds the appliance image (mtools, dosfstools, fdisk, e2fsprogs, qemu-utils) and boots
# it under qemu -accel tcg with OVMF and an "OVF ENV" ISO (qemu-system-x86, ovmf, genisoimage);
# dnsmasq is the real DHCP server of the route-tables tests (each test runs its own, by PID, on a rig
# bridge; the system's dnsmasq.service is not used, and is disabled and stopped when installed here);
# jq runs the documentation's script examples (test/readme-examples.test.ts); rsyslog and
# rsyslog-gnutls check the rendered log-forwarding drop-in (rsyslogd -N1) and forward to a receiver in
# the syslog test's own namespaces (its own rsyslogd, by PID; rsyslog.service disabled and stopped here);
# golang-go, golang-github-kr-pretty-dev, golang-github-google-uuid-dev and dpkg-dev build govc and vcsim
# (a real VMware client and vCenter simulator; Debian ships them only as source) for the OVA import
# tests (test/helpers/govmomi.sh, which installs them itself when run alone).
APT_PACKAGES=(openssl ca-certificates curl haproxy iproute2 iputils-ping iputils-arping debootstrap systemd-container packer bird2 dnsmasq
  rsyslog rsyslog-gnutls qemu-system-x86 qemu-utils ovmf genisoimage mtools dosfstools fdisk e2fsprogs jq
  golang-go golang-github-kr-pretty-dev golang-github-google-uuid-dev dpkg-dev)
# No node or npm: Debian's (Node 18.20, the appliance's); test/toolchain.sh adds the Node 20 of the tools.
command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "test/run.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "test/run.sh: run as root to install them (or install them yourself)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for unit in dnsmasq rsyslog; do
    [[ " ${missing[*]} " == *" $unit "* ]] || continue
    systemctl disable "$unit.service" >/dev/null 2>&1 || true
    systemctl stop "$unit.service" >/dev/null 2>&1 || true
  done
fi

# The Node of the toolchain (npm ci, build, linters, tap): Node 20+, fetched into .cache/node20 when the
# system's node is older (Debian 12's 18.20); and OVACTL_NODE18, the appliance's Node, for the bundle.
# shellcheck source=test/toolchain.sh
source test/toolchain.sh

npm ci --no-fund --no-audit --loglevel=error

# govc and vcsim from Debian's govmomi source package, once (cached in .cache/govmomi): a cold build
# takes minutes, better here than inside a test's time limit. A failure shows in test/govc.test.ts.
bash test/helpers/govmomi.sh >/dev/null || echo "test/run.sh: govc/vcsim not built; test/govc.test.ts says why" >&2

npm run --silent build
npm run --silent typecheck
# The layers of src/ (.dependency-cruiser.cjs): no import cycles, no runtime code in validate/plan.
npm run --silent lint:deps
# Formatting and lint (biome.json): one tool for both, fast, no plugin set to keep in step.
npm run --silent lint
# No export that nothing imports (knip.json: src/, with the tests, benches and build scripts as users).
npm run --silent lint:exports

# Two stages: every test file (in parallel, tap's jobs), then the VM tests alone, one after the other
# (test/vm.test.ts builds the image and boots it three times under TCG: minutes of CPU that would slow
# every other test; test/vm-govc.test.ts imports the OVA it built into vcsim through govc). Arguments
# (test files, tap options) run just those. OVACTL_VM=0 leaves the VM stage out (a quick local run).
logs=()
cleanup() { rm -f "${logs[@]}"; }
trap cleanup EXIT
stage() {
  local log
  log=$(mktemp)
  logs+=("$log")
  set +e
  npx tap --reporter=tap "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}
rc=0
if (($#)); then
  stage "$@" || rc=$?
else
  stage || rc=$?
  if [ "${OVACTL_VM:-1}" != 0 ]; then
    echo "test/run.sh: the VM tests (image build + qemu boots, the OVA through govc; OVACTL_VM=0 skips them)"
    stage --timeout=3600 --jobs=1 test/vm.test.ts test/vm-govc.test.ts || rc=$?
  fi
fi
# tap's closing comment "# { total: N, pass: P, fail: F, skip: S }" of each stage → the plain
# closing line CI reads, summed.
num() { local n=0 v log; for log in "${logs[@]}"; do v=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1 | sed -nE "s/.*[{ ,]$1: ([0-9]+).*/\1/p"); n=$((n + ${v:-0})); done; echo "$n"; }
echo "$(num pass) passed, $(num fail) failed, $(num skip) skipped"
# A non-root run skips the suites that need root: say so after the count, not only in the log.
if [ "$(id -u)" -ne 0 ] && [ "$(num skip)" -gt 0 ]; then
  echo "test/run.sh: not root: the suites marked NOT TESTED HERE did not run (CI runs them as root)" >&2
fi
exit "$rc"
