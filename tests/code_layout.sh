#!/bin/sh
# The daemon's code layout (cmake/hot-code.ld) is applied and still names the code it lays out:
#  - most functions the list names still exist (else the list is stale: rerun scripts/layout-code);
#  - they sit together at the front of .text: of the code up to the last of them, >= 90 % is theirs;
#  - the start-up functions (main among them) all come before the serving ones.
# Usage: code_layout.sh BINARY LAYOUT
set -eu
binary=$1 layout=$2
names=$(mktemp) && trap 'rm -f "$names"' EXIT
# One line per listed function: its name and its phase (1 start-up, 2 serving).
awk '/^\/\* serving/ { phase = 2 } /^\/\* start-up/ { phase = 1 }
     /^ *\*\(\.text/ { s = $1; sub(/^\*\(\.text(\.startup|\.hot|\.unlikely)?\./, "", s); sub(/\)$/, "", s); print s, phase }' \
  "$layout" > "$names"
text=$(readelf -SW "$binary" | awk '$2 == ".text" { print $4 " " $6 }')
[ -n "$text" ] || { echo "no .text section in $binary"; exit 1; }
nm --defined-only -S -t d "$binary" | awk -v text="$text" -v layout="$layout" '
  function dec(h,   v, j) { v = 0; for (j = 1; j <= length(h); j++) v = v * 16 + index("0123456789abcdef", substr(h, j, 1)) - 1; return v }
  BEGIN { split(text, t, " "); start = dec(t[1]); end = start + dec(t[2]) }
  FNR == NR { phase[$1] = $2; nlisted++; next }
  NF == 4 && $3 ~ /^[tTwW]$/ && $1 + 0 >= start && $1 + 0 < end && ($4 in phase) {
    n++; addr[n] = $1 + 0; size[n] = $2 + 0; name[n] = $4; copies[$4]++
  }
  END {
    # A local function (a .constprop clone of a library template, say) has copies in several files, some
    # of them cold and laid out elsewhere; only names with one copy say where the laid-out code lies.
    first_serving = end
    for (i = 1; i <= n; i++) {
      if (copies[name[i]] != 1) continue
      if (addr[i] + size[i] > last) last = addr[i] + size[i]
      if (phase[name[i]] == 1 && addr[i] + size[i] > last_startup) last_startup = addr[i] + size[i]
      if (phase[name[i]] == 2 && addr[i] < first_serving) first_serving = addr[i]
      if (name[i] == "main") main = addr[i]
    }
    for (i = 1; i <= n; i++) if (addr[i] < last && !(addr[i] in seen)) { seen[addr[i]] = 1; hotbytes += size[i] }
    for (x in copies) present++
    printf "code layout: %d of %d listed functions exist; they fill %d of the first %d bytes of .text\n",
           present, nlisted, hotbytes, last - start
    if (present * 100 < nlisted * 80) { printf "%s is stale: rerun scripts/layout-code (make layout)\n", layout; exit 1 }
    if (hotbytes * 100 < (last - start) * 90) { print "the listed functions are not laid out together: the link did not use the layout"; exit 1 }
    if (last_startup > first_serving) { print "start-up functions are mixed with serving ones"; exit 1 }
    if (!main || main >= last_startup) { print "main is not among the start-up functions laid out first"; exit 1 }
  }' "$names" -
