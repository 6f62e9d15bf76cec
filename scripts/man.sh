#!/bin/sh
# Builds a man page: man.sh FERRY COMMAND|- SECTION POD_OR_EMPTY OUT
# (COMMAND "-": ferry(1); a POD file given: that page, e.g. libferry(3)).
set -eu
ferry=$1 cmd=$2 section=$3 src=$4 out=$5
tmp=$out.pod
if [ -n "$src" ]; then
  cp "$src" "$tmp"
elif [ "$cmd" = - ]; then
  "$ferry" __pod >"$tmp"
else
  "$ferry" __pod "$cmd" >"$tmp"
fi
name=$(basename "$out" ".$section")
pod2man --section="$section" --center=ferry --release="ferry 0.1.0" \
  --name="$(echo "$name" | tr a-z A-Z)" --errors=die "$tmp" >"$out"
rm -f "$tmp"
