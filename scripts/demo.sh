#!/usr/bin/env bash
# make demo: an incremental block sync on local images, end to end.
#   1. a 256 MiB source disk with data in places, holes elsewhere;
#   2. a full copy of its allocated areas to a qcow2 destination;
#   3. "guest writes" to the source, recorded as a changed-extent list;
#   4. an incremental sync of only those extents, verified;
#   5. an independent check with qemu-img compare.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ferry="$PWD/$BUILD/tools/ferry/ferry"
work=$(mktemp -d /tmp/ferry-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "source: 256 MiB raw disk, 32 MiB of random data in 1 MiB runs"
truncate -s 256M source.img
for i in $(seq 0 31); do
  dd if=/dev/urandom of=source.img bs=1M count=1 seek=$((i * 7 + 3)) \
     conv=notrunc status=none
done
"$ferry" info source.img

say "destination: empty qcow2 of the same size"
qemu-img create -q -f qcow2 dest.qcow2 256M

say "full copy of the allocated areas"
"$ferry" sync source.img dest.qcow2

say "guest writes: 40 random 4 KiB..256 KiB writes, logged as extents"
: > changed.extents
for i in $(seq 1 40); do
  sectors=$(( (RANDOM % 64 + 1) * 8 ))
  start=$(( (RANDOM * 32768 + RANDOM) % (524288 - sectors) ))
  dd if=/dev/urandom of=source.img bs=512 count=$sectors seek=$start \
     conv=notrunc status=none
  echo "$start $sectors" >> changed.extents
done
echo "$(wc -l < changed.extents) extents, $(awk '{s+=$2} END {print s*512/1024}' changed.extents) KiB"

say "incremental sync of only the changed extents, verified"
"$ferry" sync source.img dest.qcow2 --extents changed.extents --verify --json \
  > result.json
cat result.json

say "independent check"
qemu-img compare -q source.img dest.qcow2 && echo "qemu-img compare: source and destination are identical"
qemu-img map --output=human dest.qcow2 | awk 'NR>1 {n++} END {print "destination qcow2 allocation: " n " mapped ranges (holes stayed holes)"}'
