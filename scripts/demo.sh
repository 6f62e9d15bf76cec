#!/usr/bin/env bash
# make demo: ferry's main job on local defaults, in two parts.
# Part 1, block sync: a sparse 256 MiB disk copied in full to qcow2, then
#   only the extents that "guest writes" changed, verified, and checked
#   with qemu-img compare.
# Part 2, warm migration: a VM with two disks running (qemu under TCG) on
#   one local qemu platform moves to a second one: a full copy while it
#   runs, guest writes, an incremental round of only the changed blocks,
#   more writes, cutover with the downtime measured, verified identical.
# Part 3, from VMware: VMware's vSphere simulator (tests/vsphere-sim) on
#   127.0.0.1; its thumbprint fetched and pinned, its inventory listed, a
#   running VM migrated to a local qemu platform over CBT rounds.
# Part 4, a guest that boots: the test guest (tests/guest: Debian 12 as
#   installed on VMware, built once and cached) running on pvscsi and
#   vmxnet3 is migrated warm; the cutover converts it for virtio, and the
#   destination VM boots to the guest's marker line.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
BUILD=${BUILD:-build}
ferry="$PWD/$BUILD/tools/ferry/ferry"
. "$here/scripts/workdir.sh" fd
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

say "part 2: warm migration between two local qemu platforms"
A="local://$work/a"; B="local://$work/b"; J="$work/journals"
"$ferry" vm create web --platform "$A" --vcpus 1 --memory 128 \
  --disk 64M --disk 32M --nic default >/dev/null
"$ferry" vm start web --platform "$A"
uuid=$("$ferry" vm show web --platform "$A" --json |
       python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])')

# A guest writing to its disks: qemu-io through the VM's monitor.
guest_write() { # DEVICE PATTERN OFFSET SIZE
  echo "$@" | python3 "$here/scripts/guest-write.py" "$work/a/run/$uuid/qmp.sock"
}
guest_write vda 0x11 0 16M
guest_write vdb 0x12 0 8M
echo "source VM web is running, with 24 MiB written"

say "full copy from snapshot 1 while the VM runs"
"$ferry" migrate start --from "$A" --to "$B" web --network-map default=default \
  --id demo --journal-dir "$J"

say "the guest writes 3 MiB; an incremental round copies only that"
guest_write vda 0x21 32M 2M
guest_write vdb 0x22 4M 1M
"$ferry" migrate sync demo --journal-dir "$J"

say "more writes, then cutover: stop, last changes, create, verify"
guest_write vda 0x31 8M 1M
"$ferry" migrate cutover demo --journal-dir "$J" --stop-timeout 2

say "independent check of every disk"
for dev in vda vdb; do
  src=$("$ferry" vm show web --platform "$A" --json | python3 -c \
    "import json, sys; print([d['volume_id'] for d in json.load(sys.stdin)['disks'] if d['device'] == '$dev'][0])")
  printf '%s: ' "$dev"
  qemu-img compare -q "$work/a/volumes/$src" "$work/b/volumes/web-$dev.qcow2" &&
    echo "source and destination identical"
done
"$ferry" vm list --platform "$B"

say "part 3: warm migration from VMware's vSphere simulator"
sim="$here/$BUILD/tests/vsphere-sim/vsphere-sim"
printf 'demo-Pa55\n' > "$work/pw"
"$sim" -datastore "$work/ds" -password demo-Pa55 -disk-mib 64 \
  > "$work/sim.json" 2> "$work/sim.log" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null; workdir_cleanup' EXIT
while [ ! -s "$work/sim.json" ]; do sleep 0.1; done
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['url'].split('/')[2])" "$work/sim.json")
thumb=$("$ferry" vmware thumbprint "$host")
V="vmware://user@$host?thumbprint=$thumb"
"$ferry" inventory --platform "$V" --password-file "$work/pw"
flat="$work/ds/DC0_H0_VM0/disk1-flat.vmdk"
dd if=/dev/urandom of="$flat" bs=1M count=8 seek=4 conv=notrunc status=none
echo "DC0_H0_VM0 runs with 8 MiB written to its 64 MiB disk"
C="$work/c"
"$ferry" migrate start --from "$V" --to "local://$C" DC0_H0_VM0 \
  --network-map dvportgroup-13=default --id vm0 --journal-dir "$J" \
  --password-file "$work/pw"
dd if=/dev/urandom of="$flat" bs=64K count=3 seek=500 conv=notrunc status=none
echo "the guest writes 192 KiB; CBT says which, a round copies only those"
"$ferry" migrate sync vm0 --journal-dir "$J" --password-file "$work/pw"
"$ferry" migrate cutover vm0 --journal-dir "$J" --stop-timeout 0 \
  --password-file "$work/pw"
printf 'sda: '
qemu-img compare -q -f raw "$flat" "$C/volumes/DC0_H0_VM0-sda.qcow2" &&
  echo "VMware disk and qemu disk identical"

say "part 4: a running guest migrated warm, converted, booted at the destination"
image=$(bash "$here/tests/guest/build.sh" uuid | tail -n 1)
G="local://$work/g"; K="local://$work/k"
mkdir -p "$work/g/volumes"
cp "$image" "$work/g/volumes/guest.qcow2"
"$ferry" vm create deb --platform "$G" --memory 512 \
  --disk guest.qcow2,bus=scsi,controller=pvscsi,boot=1 \
  --nic default,model=vmxnet3 >/dev/null
# The marker line the guest prints on its serial console.
marker() { # STATE_DIR VM
  local u
  u=$("$ferry" vm show "$2" --platform "local://$1" --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])')
  python3 "$here/scripts/guest-marker.py" "$1/run/$u/serial.log"
}
"$ferry" vm start deb --platform "$G"
echo "VM deb boots the guest on pvscsi (qemu under TCG)"
"$ferry" migrate start --from "$G" --to "$K" deb --network-map default=default \
  --id deb --journal-dir "$J"
printf 'at the source: '
marker "$work/g" deb
"$ferry" migrate sync deb --journal-dir "$J"
"$ferry" migrate cutover deb --journal-dir "$J" --stop-timeout 30
"$ferry" vm show deb --platform "$K"
"$ferry" vm start deb --platform "$K"
printf 'at the destination: '
marker "$work/k" deb
"$ferry" vm stop deb --platform "$K" --force >/dev/null 2>&1 || true
