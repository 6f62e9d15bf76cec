#!/usr/bin/env bash
# Warm-migration benchmark (not a test): a VM with a 2 GiB disk (under TCG)
# moves between two local qemu platforms. For 1%, 5% and 20% of the disk
# changed between rounds, it checks that a round's time follows the changed
# bytes, not the disk size (at most 1.5x changed bytes / the full copy's
# throughput in the same run), and reports the cutover downtime.
#
#   make bench                          # after bench.py
#   MIG_SIZE=512M bash bench/migrate.sh  # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
BUILD=${BUILD:-build}
ferry="$here/$BUILD/tools/ferry/ferry"
SIZE=${MIG_SIZE:-2G}
OUT=bench/out
mkdir -p "$OUT"
. "$here/scripts/workdir.sh" fb
say() { echo "bench: $*" >&2; }
py() { python3 -c "$@"; }
field() { # JSON_FILE PYTHON_EXPR(m)
  python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"
}

bytes=$(numfmt --from=iec "$SIZE")
table="| changed | bytes copied | round (s) | bound (s) | result | cutover downtime (s) |
|---:|---:|---:|---:|---|---:|
"
for pct in 1 5 20; do
  A="local://$work/a$pct" B="local://$work/b$pct" J="$work/j$pct"
  "$ferry" vm create v --platform "$A" --memory 64 --disk "$SIZE" >/dev/null
  # a full disk of data, written before the VM starts
  # (qemu-io caps one request under 2 GiB: 256 MiB at a time)
  cmds=()
  for ((off = 0; off < bytes; off += 268435456)); do
    len=$((bytes - off < 268435456 ? bytes - off : 268435456))
    cmds+=(-c "write -P 0x5a $off $len")
  done
  qemu-io -f qcow2 "${cmds[@]}" "$work/a$pct/volumes/v-vda.qcow2" >/dev/null
  "$ferry" vm start v --platform "$A"
  uuid=$("$ferry" vm show v --platform "$A" --json | py 'import json,sys; print(json.load(sys.stdin)["uuid"])')
  sock="$work/a$pct/run/$uuid/qmp.sock"
  "$ferry" migrate start --from "$A" --to "$B" v --id b --journal-dir "$J" --json > "$work/m.json"
  full_bytes=$(field "$work/m.json" 'm["rounds"][0]["changed_bytes"]')
  full_ms=$(field "$work/m.json" 'm["rounds"][0]["millis"]')
  # pct% of the disk rewritten by the guest, 1 MiB at a time, at random
  n=$((bytes / 1048576 * pct / 100))
  py "import random; r = random.Random($pct); m = $bytes >> 20
for off in r.sample(range(m), $n): print('vda 0x%02x %d 1M' % (0x10 + $pct, off << 20))" |
    python3 scripts/guest-write.py "$sock"
  "$ferry" migrate sync b --journal-dir "$J" --json > "$work/m.json"
  round_bytes=$(field "$work/m.json" 'm["rounds"][1]["changed_bytes"]')
  round_ms=$(field "$work/m.json" 'm["rounds"][1]["millis"]')
  "$ferry" migrate cutover b --journal-dir "$J" --stop-timeout 0 --json > "$work/m.json"
  down_ms=$(field "$work/m.json" 'm["downtime_millis"]')
  verified=$(field "$work/m.json" 'm["verified"]')
  [ "$verified" = True ] || { say "cutover not verified"; exit 1; }
  read -r round_s bound_s verdict < <(py "
full = $full_bytes / ($full_ms / 1000)    # bytes/s of the full copy
bound = 1.5 * $round_bytes / full
t = $round_ms / 1000
print('%.3f %.3f %s' % (t, bound, 'PASS' if t <= bound else 'MISS'))")
  say "$pct%: $round_bytes bytes in $round_s s (bound $bound_s s) $verdict; downtime $((down_ms)) ms"
  table+="| $pct% | $((round_bytes >> 20)) MiB | $round_s | $bound_s | $verdict | $(py "print('%.3f' % ($down_ms / 1000))") |
"
done
{
  echo "## Warm migration: rounds and downtime"
  echo
  printf '%s' "$table"
  echo
  echo "- disk: $SIZE qcow2, all data; full copy throughput of each run used"
  echo "  for its bound (1.5 x changed bytes / full-copy bytes per second)"
  echo "- the source VM runs under TCG; guest writes are 1 MiB qemu-io writes"
  echo "  at random places; cutover with --stop-timeout 0 (power off at once:"
  echo "  SeaBIOS would ignore the ACPI request), verification on"
} | tee "$OUT/migrate.md"
