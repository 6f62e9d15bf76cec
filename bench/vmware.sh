#!/usr/bin/env bash
# The full copy of a warm migration from VMware (the project's vSphere
# simulator on 127.0.0.1) to a local qemu platform, through the HTTPS and
# the VDDK data paths, beside two baselines in the same run: curl fetching
# the same flat disk over the same TLS server, and qemu-img convert of the
# flat file straight from the datastore directory (no network at all).
# VMW_SIZE (default 1024 MiB) disk, half of it random data in 1 MiB runs.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
BUILD=${BUILD:-build}
ferry="$here/$BUILD/tools/ferry/ferry"
sim="$here/$BUILD/tests/vsphere-sim/vsphere-sim"
size_mib=${VMW_SIZE:-1024}
. "$here/scripts/workdir.sh" fv
printf 'bench-Pa55\n' > "$work/pw"
"$sim" -datastore "$work/ds" -password bench-Pa55 -disk-mib "$size_mib" \
  -vms 1 -hosts 1 > "$work/sim.json" 2> "$work/sim.log" &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null; wait $sim_pid 2>/dev/null; workdir_cleanup' EXIT
while [ ! -s "$work/sim.json" ]; do sleep 0.1; done
host=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['url'].split('/')[2])" "$work/sim.json")
thumb=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['thumbprint'])" "$work/sim.json")
flat="$work/ds/DC0_H0_VM0/disk1-flat.vmdk"
for i in $(seq 0 2 $((size_mib - 1))); do
  dd if=/dev/urandom of="$flat" bs=1M count=1 seek="$i" conv=notrunc status=none
done
data_mib=$((size_mib / 2))
# curl pinned to the server's public key (what the thumbprint pins for ferry)
pin=$(openssl s_client -connect "$host" </dev/null 2>/dev/null |
  openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)
cookie="vmware_soap_session=none" # the simulator's /folder needs no login
export FERRY_VDDK_DUMMY_DATASTORES="LocalDS_0=$work/ds"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[1]):.3f}')" "$1"; }
timed() { # label command...: prints seconds and peak RSS
  local label=$1
  shift
  drop
  local t0 t1 rss
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/out" 2>&1 ||
    { cat "$work/out"; exit 1; }
  t1=$(date +%s.%N)
  rss=$(cat "$work/rss")
  printf '%s %s %s\n' "$(secs "$(echo "$t1 - $t0" | bc)")" "$((rss / 1024))" "$label"
}
start() { # transport: the argv of a migration's start (the full copy)
  local extra=""
  [ "$1" = vddk ] && extra="&vddk_libdir=$here/$BUILD/tests/vddk-dummy"
  echo "$ferry" migrate start --from "vmware://user@$host?thumbprint=$thumb&transport=$1$extra" \
    --to "local://$work/q$1" DC0_H0_VM0 --network-map dvportgroup-13=default \
    --id "b$1" --journal-dir "$work/j" --password-file "$work/pw"
}
copy_secs() { # the full copy's own time, from the journal (no snapshots)
  "$ferry" migrate status "b$1" --journal-dir "$work/j" --json |
    python3 -c "import json,sys; print(f\"{json.load(sys.stdin)['rounds'][0]['millis']/1000:.3f} 0 ferry $1 (copy only)\")"
}
abort() {
  "$ferry" migrate abort "b$1" --journal-dir "$work/j" --password-file "$work/pw" >/dev/null
}
echo "disk ${size_mib} MiB, ${data_mib} MiB of data; seconds, peak RSS MiB"
declare -A t
while read -r s rss label; do
  t[$label]=$s
  if [ "$rss" = 0 ]; then
    printf '%-34s %8s s\n' "$label" "$s"
  else
    printf '%-34s %8s s %6s MiB\n' "$label" "$s" "$rss"
  fi
done < <(
  # shellcheck disable=SC2046
  timed "ferry https (migrate start)" $(start https)
  copy_secs https
  abort https
  # shellcheck disable=SC2046
  timed "ferry vddk (migrate start)" $(start vddk)
  copy_secs vddk
  abort vddk
  timed "curl GET of the flat disk" curl -sS --pinnedpubkey "sha256//$pin" -k \
    -o /dev/null -b "$cookie" \
    "https://$host/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0"
  timed "qemu-img convert (local file)" qemu-img convert -f raw -O qcow2 "$flat" "$work/local.qcow2"
)
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }
echo "(migrate start includes the simulator's snapshot emulation: it copies"
echo " the disk's data at each snapshot, twice here with the CBT stun cycle)"
echo "ferry https copy / curl GET:        $(ratio "${t[ferry https (copy only)]:-0}" "${t[curl GET of the flat disk]:-1}")"
echo "ferry vddk copy / qemu-img convert: $(ratio "${t[ferry vddk (copy only)]:-0}" "${t[qemu-img convert (local file)]:-1}")"
