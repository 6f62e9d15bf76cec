#!/usr/bin/env bash
# Guest conversion benchmark (not a test): on the same test guest
# (tests/guest: Debian 12 as installed on VMware, no virtio in its
# initramfs), in one run, side by side:
#   virt-v2v -i disk -o local -of qcow2   (Debian's virt-v2v)
#   ferry convert --remove-vmware-tools    (in place, on a copy of the disk;
#                                           virt-v2v removes them too)
# each timed, its peak RSS measured (GNU time: the largest process of its
# tree, the libguestfs appliance's qemu included), and its output booted on
# virtio-blk + virtio-net under TCG to the guest's marker line. Both run
# their appliance under TCG (KVM is unreliable here). The table goes to
# bench/out/convert.md. Goal: ferry at most 0.25x virt-v2v's time.
#
#   make bench                 # all of them
#   bash bench/convert.sh      # this one (builds the guest when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
BUILD=${BUILD:-build}
ferry="$here/$BUILD/tools/ferry/ferry"
OUT=bench/out
mkdir -p "$OUT"
. "$here/scripts/workdir.sh" fv
say() { echo "bench: $*" >&2; }
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

image=$(bash tests/guest/build.sh uuid | tail -n 1)
say "guest: $image ($(du -m "$image" | cut -f1) MiB)"
P="local://$work/p"
mkdir -p "$work/p/volumes" "$work/v2v"

# timed CMD...: "seconds peak-RSS-KiB" of the run into $TIMED
timed() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out.log" 2>&1 || {
    say "failed: $*"; tail -n 30 "$work/out.log" >&2; return 1; }
  TIMED=$(tail -n 1 "$work/time")
}

# a VM of volume VOLUME on virtio-blk and virtio-net
virtio_vm() { # VM VOLUME
  "$ferry" vm create "$1" --platform "$P" --memory 512 --disk "$2,boot=1" \
    --nic default,model=virtio-net-pci >/dev/null
}

# boots VM to the marker: "yes" or "no"
boots() { # VM
  "$ferry" vm start "$1" --platform "$P"
  local u
  u=$("$ferry" vm show "$1" --platform "$P" --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["uuid"])')
  if python3 scripts/guest-marker.py "$work/p/run/$u/serial.log" >&2; then
    echo yes
  else
    echo no
  fi
  "$ferry" vm stop "$1" --platform "$P" --force >/dev/null 2>&1 || true
}

say "virt-v2v -i disk -o local -of qcow2 $(dpkg-query -W -f='${Version}' virt-v2v)"
timed virt-v2v -i disk "$image" -o local -os "$work/v2v" -of qcow2 -on v2v
read -r V_S V_RSS <<<"$TIMED"
cp "$work/v2v/v2v-sda" "$work/p/volumes/v2v.qcow2"
virtio_vm v2v v2v.qcow2
V_BOOT=$(boots v2v)
say "virt-v2v: ${V_S}s, peak RSS $((V_RSS / 1024)) MiB, boots: $V_BOOT"

say "ferry convert --remove-vmware-tools (in place, on a copy of the same disk)"
cp "$image" "$work/p/volumes/f.qcow2"
virtio_vm f f.qcow2
timed "$ferry" convert f --platform "$P" --remove-vmware-tools
read -r F_S F_RSS <<<"$TIMED"
F_BOOT=$(boots f)
say "ferry convert: ${F_S}s, peak RSS $((F_RSS / 1024)) MiB, boots: $F_BOOT"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
T_R=$(ratio "$F_S" "$V_S") M_R=$(ratio "$F_RSS" "$V_RSS")
goal=$(awk -v r="$T_R" 'BEGIN { print (r <= 0.25) ? "met" : "NOT met" }')
table="| tool | time (s) | peak RSS (MiB) | boots on virtio |
|---|---:|---:|---|
| virt-v2v $(dpkg-query -W -f='${Version}' virt-v2v) | $V_S | $((V_RSS / 1024)) | $V_BOOT |
| ferry convert --remove-vmware-tools | $F_S | $((F_RSS / 1024)) | $F_BOOT |
| ratio ferry / virt-v2v | $T_R | $M_R | |

Goal: ferry at most 0.25x virt-v2v's time: $goal ($(nproc) cores, TCG, $(date -u +%F))."
printf '%s\n' "$table" | tee "$OUT/convert.md"
[ "$V_BOOT" = yes ] && [ "$F_BOOT" = yes ] || { say "an output did not boot"; exit 1; }
