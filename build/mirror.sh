# Sourced by build/image.sh and test/helpers/rig/rootfs.sh: the Debian mirror this machine's APT uses, so
# debootstrap works offline here (only Debian's archive, as configured, is reachable).
# mirror_for SUITE → the first URI of a deb entry for exactly SUITE, from deb822 (*.sources) or
# one-line (*.list) sources; nothing when there is none.
mirror_for() {
  local suite=$1 f
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: stanzas separated by blank lines
    awk -v suite="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites = " " $i " "; sub(/^ Suites:/, "", suites) }
          if ($i ~ /^Types:/) { types = $i }
        }
        if (types ~ /deb( |$)/ && suites ~ ("[ \t]" suite "[ \t]")) { split(uris, u, /[ \t]+/); print u[1] }
      }' "$f"
    # one-line form
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) print $i }' "$f"
  done | head -n 1
}
