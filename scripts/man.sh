#!/bin/sh
# Builds a man page: man.sh FERRY COMMAND|- SECTION POD_OR_EMPTY OUT [EXTRA]
# (COMMAND "-": ferry(1); a POD file given: that page, e.g. libferry(3)).
# EXTRA, a POD file, goes in before the page's ENVIRONMENT or SEE ALSO.
set -eu
ferry=$1 cmd=$2 section=$3 src=$4 out=$5 extra=${6:-}
tmp=$out.pod
if [ -n "$src" ]; then
  cp "$src" "$tmp"
elif [ "$cmd" = - ]; then
  "$ferry" __pod >"$tmp"
else
  "$ferry" __pod "$cmd" >"$tmp"
fi
if [ -n "$extra" ]; then
  awk -v extra="$extra" '
    !done && /^=head1 (ENVIRONMENT|SEE ALSO)/ {
      while ((getline line < extra) > 0) print line
      print ""
      done = 1
    }
    { print }' "$tmp" >"$tmp.2"
  mv "$tmp.2" "$tmp"
fi
name=$(basename "$out" ".$section")
pod2man --section="$section" --center=ferry --release="ferry 0.1.0" \
  --name="$(echo "$name" | tr a-z A-Z)" --errors=die "$tmp" >"$out"
rm -f "$tmp"
