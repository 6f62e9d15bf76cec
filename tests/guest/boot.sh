#!/usr/bin/env bash
# boot.sh IMAGE CONTROLLER [NIC [TIMEOUT_S]]   boots a test guest, says how it went
#   CONTROLLER: pvscsi | mptsas | ahci | virtio-blk | virtio-scsi
#   NIC:        vmxnet3 | e1000 | virtio-net | none     (default vmxnet3)
#   TIMEOUT_S:  default 300
# Boots IMAGE under qemu TCG through a copy-on-write view (snapshot=on: the
# image is never written, so a cached fixture can be booted by many at once),
# the serial console to a log, the NIC on a restricted user network (nothing
# leaves the host). Waits for the guest's marker, the initramfs giving up on
# its root, a panic, qemu's end or the timeout; qemu is killed by PID on
# every way out. Prints one line and exits 0 only for the first:
#   RESULT ok FERRY-GUEST-BOOT-OK root=... kernel=... net=...
#   RESULT fail <reason>
# The serial log is removed after an ok boot and kept (path on stderr)
# otherwise; SERIAL_LOG=FILE keeps it always. ACCEL overrides -accel tcg.
# For humans and for checking the fixture: ferry's tests boot guests through
# ferry's own qemu platform.
set -uo pipefail

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
  echo "usage: $0 IMAGE pvscsi|mptsas|ahci|virtio-blk|virtio-scsi [vmxnet3|e1000|virtio-net|none [TIMEOUT_S]]" >&2
  exit 2
fi
img=$1 ctrl=$2 nic=${3:-vmxnet3} timeout=${4:-300}
if [ ! -f "$img" ] || [ ! -r "$img" ]; then echo "$0: cannot read $img" >&2; exit 2; fi
[[ $timeout =~ ^[0-9]+$ ]] || { echo "$0: TIMEOUT_S must be whole seconds" >&2; exit 2; }

# shellcheck disable=SC2054  # the commas are qemu's, inside one argument
case $ctrl in
  pvscsi)      disk=(-device pvscsi,id=c0 -device scsi-hd,drive=d0,bus=c0.0,bootindex=1);;
  # mptsas1068 is VMware's "LSI Logic SAS"; the guest driver is mptsas.
  mptsas)      disk=(-device mptsas1068,id=c0 -device scsi-hd,drive=d0,bus=c0.0,bootindex=1);;
  ahci)        disk=(-device ahci,id=c0 -device ide-hd,drive=d0,bus=c0.0,bootindex=1);;
  virtio-blk)  disk=(-device virtio-blk-pci,drive=d0,bootindex=1);;
  virtio-scsi) disk=(-device virtio-scsi-pci,id=c0 -device scsi-hd,drive=d0,bus=c0.0,bootindex=1);;
  *) echo "$0: unknown controller $ctrl" >&2; exit 2;;
esac
# shellcheck disable=SC2054
case $nic in
  none)                net=();;
  vmxnet3|e1000)       net=(-netdev user,id=n0,restrict=on -device "$nic,netdev=n0");;
  virtio-net)          net=(-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0);;
  *) echo "$0: unknown NIC $nic" >&2; exit 2;;
esac

fmt=$(qemu-img info --output=json "$img" | sed -n 's/^ *"format": "\([^"]*\)".*/\1/p' | head -1)
[ -n "$fmt" ] || { echo "$0: qemu-img cannot read $img" >&2; exit 2; }

if [ -n "${SERIAL_LOG:-}" ]; then
  log=$SERIAL_LOG keep=1
  : >"$log"
else
  log=$(mktemp "${TMPDIR:-/tmp}/ferry-boot-$ctrl-XXXXXX.log") keep=0
fi

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
qpid=
result=
# shellcheck disable=SC2317  # run by the EXIT trap
finish() {
  if [ -n "$qpid" ]; then kill -KILL "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; fi
  rm -f "$log.qemu"
  if [ -z "$result" ]; then result="fail interrupted"; fi
  if [ "${result%% *}" = ok ] && [ "$keep" = 0 ]; then
    rm -f "$log"
  else
    echo "boot: serial log $log" >&2
  fi
  echo "RESULT $result"
}
trap finish EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM

# qemu option values escape commas by doubling them.
start=$(now_ms)
qemu-system-x86_64 -nodefaults -machine pc -accel "${ACCEL:-tcg}" -cpu max -smp 2 -m 1024 \
  -display none -monitor none -chardev "file,id=s0,path=${log//,/,,}" -serial chardev:s0 \
  -no-reboot -drive "file=${img//,/,,},format=$fmt,if=none,id=d0,snapshot=on,cache=unsafe" \
  "${disk[@]}" "${net[@]}" </dev/null 2>"$log.qemu" &
qpid=$!

# The marker line once it is whole: the tty ends each line with \r\n, and the
# log grows a byte at a time. After qemu's end, whatever is there.
marker_line() {
  local m
  m=$(grep -ao $'FERRY-GUEST-BOOT-OK [^\r]*\r' "$log" | head -1 | tr -d '\r')
  [ -n "$m" ] || [ -n "$qpid" ] || m=$(grep -ao 'FERRY-GUEST-BOOT-OK .*' "$log" | head -1 | tr -d '\r')
  [ -n "$m" ] && echo "$m"
}
# The last few lines of the console, on one line, for a failure's reason.
tail_of_log() { tr -d '\r' <"$log" | grep -av '^\s*$' | tail -3 | tr -s ' \n' ' ' | cut -c1-200; }
rc=1
while :; do
  el=$(( $(now_ms) - start ))
  if marker=$(marker_line); then
    result="ok $marker"; rc=0; break
  fi
  if grep -aq 'Gave up waiting for root' "$log"; then
    # initramfs-tools prints the ALERT line naming the root right after.
    sleep 2
    alert=$(tr -d '\r' <"$log" | grep -a -m1 'ALERT!' | tr -s ' ')
    result="fail initramfs gave up waiting for the root device${alert:+: $alert}"; break
  fi
  if grep -aq 'Kernel panic' "$log"; then
    result="fail $(tr -d '\r' <"$log" | grep -a -m1 'Kernel panic' | tr -s ' ')"; break
  fi
  if ! kill -0 "$qpid" 2>/dev/null; then
    wait "$qpid"; st=$?; qpid=
    # It may have printed the marker and powered off between two looks.
    if marker=$(marker_line); then
      result="ok $marker"; rc=0; break
    fi
    result="fail qemu exited (status $st) before the marker: $(tr '\n' ' ' <"$log.qemu" | cut -c1-200)$(tail_of_log)"
    break
  fi
  if [ "$el" -ge $((timeout * 1000)) ]; then
    result="fail timeout after ${timeout}s; console ends: $(tail_of_log)"; break
  fi
  sleep 0.25
done
el=$(( $(now_ms) - start ))
printf 'boot: %s %s on %s+%s after %d.%01ds\n' "${result%% *}" "$(basename "$img")" "$ctrl" "$nic" \
  $((el / 1000)) $((el % 1000 / 100)) >&2
exit $rc
