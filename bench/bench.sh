#!/usr/bin/env bash
# ferry benchmark (not a test): ferry sync vs nbdcopy vs qemu-img convert.
#
#   make bench                       # BUILD=build bash bench/bench.sh
#   BENCH_SIZE=512M BENCH_RUNS=1 bash bench/bench.sh   # quick run
#
# Environment:
#   BENCH_SIZE   image size (default 4G; a multiple of 1 MiB, e.g. 512M)
#   BENCH_RUNS   timed runs per tool and setup; medians are reported (3)
#   BENCH_TUNE   1: also try ferry --workers/--requests/--request-size
#                variants once per setup and print a tuning table (0)
#   BENCH_DIR    parent of the work directory (/var/tmp); the work dir is
#                a fresh mktemp dir there, removed at the end
#   BENCH_KEEP   1: keep the work directory
#   BENCH_SEED   seed for the image layout, its data and the extent list (1)
#   BENCH_DROP_CACHES  0: never drop the page cache (default: drop before
#                every timed run when /proc/sys/vm/drop_caches is writable)
#
# Setups:
#   a) file -> file     ferry sync SRC DST | nbdcopy --flush SRC DST |
#                       qemu-img convert -W -m 16 -t writeback -f raw -O raw
#   b) NBD -> NBD       the same through qemu-nbd unix sockets
#   c) incremental      ferry sync SRC DST --extents FILE (about 5% of the
#                       disk changed at the source) vs the full nbdcopy of a)
#
# Every tool flushes the destination at the end: ferry always fdatasyncs or
# sends NBD_CMD_FLUSH; nbdcopy gets --flush; qemu-img convert gets
# -t writeback, because its default output cache mode for convert is
# 'unsafe', which never flushes. Targets are informational: the exit code
# is 0 unless a tool failed or a copy came out wrong.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
FERRY=${FERRY:-$BUILD/tools/ferry/ferry}
PY=${PYTHON:-python3}
SIZE_STR=${BENCH_SIZE:-4G}
RUNS=${BENCH_RUNS:-3}
TUNE=${BENCH_TUNE:-0}
SEED=${BENCH_SEED:-1}
PARENT=${BENCH_DIR:-/var/tmp}
OUTDIR=$ROOT/bench/out
GNU_TIME=/usr/bin/time

# Targets (informational).
T_FULL_RATIO=0.8   # ferry time <= 0.8 x nbdcopy time, both setups
T_INCR_SPEEDUP=15  # full nbdcopy time / ferry incremental time >= 15
T_RSS_MIB=64       # ferry peak RSS

die() {
  echo >&2
  echo "bench: ERROR: $*" >&2
  exit 1
}
say() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- checks
for t in qemu-img qemu-nbd nbdcopy nbdinfo cmp "$PY"; do
  command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed"
done
[ -x "$GNU_TIME" ] || die "GNU time ($GNU_TIME) is not installed"
[ -x "$FERRY" ] || die "no ferry binary at $FERRY (run 'make build')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
SIZE=$(numfmt --from=iec "$SIZE_STR" 2>/dev/null) ||
  die "BENCH_SIZE '$SIZE_STR' is not a size like 4G or 512M"
MIB=$((1024 * 1024))
((SIZE >= 16 * MIB && SIZE % MIB == 0)) ||
  die "BENCH_SIZE must be a multiple of 1 MiB and at least 16 MiB"

mkdir -p "$PARENT" || die "cannot create $PARENT"
WORK=$(mktemp -d "$PARENT/ferry-bench.XXXXXX") || die "mktemp failed"
SRC=$WORK/src.img
DST=$WORK/dst.img
EXTENTS=$WORK/extents.txt
SOCK1=$WORK/src.sock
SOCK2=$WORK/dst.sock
URI1="nbd+unix:///?socket=$SOCK1"
URI2="nbd+unix:///?socket=$SOCK2"
LOGS=$WORK/logs
mkdir -p "$LOGS"

SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    say "kept work directory $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ page cache
DROP=no
if [ "${BENCH_DROP_CACHES:-1}" != 0 ]; then
  sync
  if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then
    DROP=yes
  fi
fi
prepare_cache() {
  sync
  if [ "$DROP" = yes ]; then
    echo 3 >/proc/sys/vm/drop_caches || die "drop_caches stopped working"
  fi
}

# ------------------------------------------------------------- servers
# start_server VAR SOCKET ARGS...: qemu-nbd in the background, ready.
start_server() {
  local var=$1 sock=$2 pid i
  shift 2
  rm -f "$sock"
  qemu-nbd "$@" -k "$sock" >>"$LOGS/qemu-nbd.log" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  for ((i = 0; i < 500; i++)); do
    if [ -S "$sock" ] &&
        nbdinfo --size "nbd+unix:///?socket=$sock" >/dev/null 2>&1; then
      printf -v "$var" '%s' "$pid"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  tail -5 "$LOGS/qemu-nbd.log" >&2
  die "qemu-nbd $* did not come up on $sock"
}
stop_server() {
  local pid=$1 i keep=()
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for i in "${SERVER_PIDS[@]}"; do
    [ "$i" = "$pid" ] || keep+=("$i")
  done
  SERVER_PIDS=("${keep[@]}")
}

# -------------------------------------------------------------- timing
# timed NAME CMD...: drops the cache, runs CMD under GNU time; sets
# ELAPSED (s, wall clock around the command), RSS (KiB) and CPU (user+sys
# seconds of CMD itself; for NBD the servers' CPU is not included).
timed() {
  local name=$1 log t0 t1
  shift
  log=$LOGS/$name.log
  prepare_cache
  t0=$(date +%s%N)
  if ! "$GNU_TIME" -f '%M %U %S' -o "$log.time" "$@" >"$log" 2>&1; then
    echo "---- $* ----" >&2
    tail -20 "$log" >&2
    die "command failed: $*"
  fi
  t1=$(date +%s%N)
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  read -r RSS CPU < <(tail -n 1 "$log.time" |
                      awk '{ printf "%d %.2f\n", $1, $2 + $3 }')
}

median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) printf "%.3f", a[(NR + 1) / 2];
          else printf "%.3f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { # verdict VALUE OP LIMIT
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
    ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "PASS" : "MISS" }'
}

check_same() { # check_same WHAT: SRC and DST must be identical
  say "checking $1: cmp src dst"
  if ! cmp "$SRC" "$DST" >"$LOGS/cmp.log" 2>&1; then
    cat "$LOGS/cmp.log" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    die "WRONG COPY: $1 left a destination that differs from the source"
  fi
}

fresh_dst() { rm -f "$DST" && truncate -s "$SIZE" "$DST"; }

# ------------------------------------------------------- the test data
# bench/gen.py: the image (half of its 1 MiB runs data), the 5% extent
# list, and the extents rewritten for a round.
GEN_PY="$(cd "$(dirname "$0")" && pwd)/gen.py"

T_START=$(date +%s)
LOAD_START=$(cut -d" " -f1-3 /proc/loadavg)
say "work dir $WORK, size $SIZE_STR ($SIZE bytes), runs $RUNS," \
    "page cache dropped: $DROP"
say "generating the source image"
read -r DATA_MIB TOTAL_MIB < <("$PY" "$GEN_PY" image "$SRC" "$SIZE" "$SEED") ||
  die "image generation failed"
[ -n "${DATA_MIB:-}" ] || die "image generation failed"
read -r NEXT EXT_BYTES < <("$PY" "$GEN_PY" extents "$EXTENTS" "$SIZE" "$SEED") ||
  die "extent list generation failed"
[ -n "${NEXT:-}" ] || die "extent list generation failed"
ALLOC_KIB=$(du -k "$SRC" | cut -f1)
say "source: $DATA_MIB of $TOTAL_MIB MiB data (du: $((ALLOC_KIB / 1024)) MiB);" \
    "extent list: $NEXT extents, $(awk -v b="$EXT_BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB"

# ferry's defaults (see --help): 8 threads between files, 2 connections
# with NBD; 4 requests in flight per NBD connection; 2 MiB requests.
FERRY_DEF_W_FILE=8 FERRY_DEF_W_NBD=2 FERRY_DEF_R=4 FERRY_DEF_S=2M

declare -A TIMES CPUS MAXRSS
# record KEY TOOL: keeps ELAPSED and CPU of the last run under KEY, and the
# max RSS per TOOL
record() {
  TIMES[$1]="${TIMES[$1]:-} $ELAPSED"
  CPUS[$1]="${CPUS[$1]:-} $CPU"
  ((${MAXRSS[$2]:-0} > RSS)) || MAXRSS[$2]=$RSS
}

# Tools run in a rotating order (run 1: ferry nbdcopy qemu-img, run 2:
# nbdcopy qemu-img ferry, ...) so that none always runs first.
TOOLS=(ferry nbdcopy qemu)
tool_at() { echo "${TOOLS[$(((($1 - 1) + $2) % 3))]}"; }
declare -A NAME=([ferry]=ferry [nbdcopy]=nbdcopy [qemu]=qemu-img)

# ------------------------------------------------- a) file -> file
run_file() { # run_file TOOL RUN
  case $1 in
  ferry)
    fresh_dst
    timed "a-ferry-$2" "$FERRY" sync "$SRC" "$DST" --json ;;
  nbdcopy)
    fresh_dst
    timed "a-nbdcopy-$2" nbdcopy --flush "$SRC" "$DST" ;;
  qemu)
    rm -f "$DST" # qemu-img convert creates the (sparse) destination itself
    timed "a-qemu-$2" qemu-img convert -W -m 16 -t writeback \
      -f raw -O raw "$SRC" "$DST" ;;
  esac
}
say "a) file -> file"
for ((run = 1; run <= RUNS; run++)); do
  for k in 0 1 2; do
    t=$(tool_at "$run" "$k")
    run_file "$t" "$run"
    record "a_$t" "${NAME[$t]}"
    say "  run $run $(printf '%-9s' "${NAME[$t]}") $ELAPSED s  (CPU $CPU s, RSS $((RSS / 1024)) MiB)"
    ((run == 1)) && check_same "${NAME[$t]} file->file"
  done
done

# ------------------------------------------------- b) NBD -> NBD
say "b) NBD -> NBD through qemu-nbd"
start_server SRC_PID "$SOCK1" -r -f raw -t -e 8 "$SRC"
nbd_run() { # nbd_run NAME TOOL...: fresh destination file and server
  local name=$1 dpid
  shift
  fresh_dst
  start_server dpid "$SOCK2" -f raw -t -e 8 --discard=unmap "$DST"
  timed "$name" "$@"
  stop_server "$dpid"
}
run_nbd() { # run_nbd TOOL RUN
  case $1 in
  ferry) nbd_run "b-ferry-$2" "$FERRY" sync "$URI1" "$URI2" --json ;;
  nbdcopy) nbd_run "b-nbdcopy-$2" nbdcopy --flush "$URI1" "$URI2" ;;
  qemu) nbd_run "b-qemu-$2" qemu-img convert -W -m 16 -t writeback -n \
          -f raw -O raw "$URI1" "$URI2" ;;
  esac
}
for ((run = 1; run <= RUNS; run++)); do
  for k in 0 1 2; do
    t=$(tool_at "$run" "$k")
    run_nbd "$t" "$run"
    record "b_$t" "${NAME[$t]}"
    say "  run $run $(printf '%-9s' "${NAME[$t]}") $ELAPSED s  (CPU $CPU s, RSS $((RSS / 1024)) MiB)"
    ((run == 1)) && check_same "${NAME[$t]} NBD->NBD"
  done
done

# ------------------------------------------------- tuning (BENCH_TUNE=1)
# Every combination once. For file -> file, ferry keeps one request per
# worker whatever --requests says (both sides are synchronous), so the
# --requests 4 and 16 rows there show the run-to-run noise.
TUNE_TABLE=
TUNE_RSS_MAX=0
if [ "$TUNE" = 1 ]; then
  say "tuning: ferry variants, one run each"
  TUNE_TABLE+="| setup | --workers | --requests | --request-size | ferry (s) | vs default | CPU (s) | peak RSS (MiB) |"$'\n'
  TUNE_TABLE+="|---|---:|---:|---:|---:|---:|---:|---:|"$'\n'
  for setup in file nbd; do
    def_t=
    def_w=$FERRY_DEF_W_FILE
    [ "$setup" = nbd ] && def_w=$FERRY_DEF_W_NBD
    for w in $def_w 1 4 $((def_w == 8 ? 2 : 8)); do
      for r in 4 16; do
        for s in 2M 1M 4M; do
          args=(--workers "$w" --requests "$r" --request-size "$s")
          name="tune-$setup-w$w-r$r-s$s"
          if [ "$setup" = file ]; then
            fresh_dst
            timed "$name" "$FERRY" sync "$SRC" "$DST" --json "${args[@]}"
            label="file → file"
          else
            nbd_run "$name" "$FERRY" sync "$URI1" "$URI2" --json "${args[@]}"
            label="NBD → NBD"
          fi
          ((RSS > TUNE_RSS_MAX)) && TUNE_RSS_MAX=$RSS
          [ -n "$def_t" ] || def_t=$ELAPSED # first variant = the defaults
          mark=""
          [ "$w-$r-$s" = "$def_w-$FERRY_DEF_R-$FERRY_DEF_S" ] &&
            mark=" (default)"
          TUNE_TABLE+="| $label | $w | $r | $s$mark | $ELAPSED | $(ratio "$ELAPSED" "$def_t") | $CPU | $((RSS / 1024)) |"$'\n'
          say "  $setup w=$w r=$r s=$s  $ELAPSED s  (CPU $CPU s, RSS $((RSS / 1024)) MiB)"
        done
      done
    done
  done
fi
stop_server "$SRC_PID"

# ------------------------------------------------- c) incremental
# c1) as the issue asks: the destination is an up-to-date full copy, the
#     source is unchanged, ferry copies the extent list onto it. Parts of
#     the list that are holes on both sides are skipped.
# c2) closer to changed-block tracking: before each run every extent of
#     the list gets new random data at the source (holes there become
#     data), so each run really moves the whole list.
# The baseline for both is the full nbdcopy (file -> file) median of a).
say "c) incremental: ferry --extents vs full nbdcopy"
fresh_dst
"$FERRY" sync "$SRC" "$DST" >"$LOGS/c-initial.log" 2>&1 ||
  die "initial sync for the incremental test failed"
for ((run = 1; run <= RUNS; run++)); do
  timed "c1-ferry-$run" "$FERRY" sync "$SRC" "$DST" --extents "$EXTENTS" --json
  record c1_ferry ferry
  say "  run $run ferry --extents, source unchanged  $ELAPSED s  (CPU $CPU s, RSS $((RSS / 1024)) MiB)"
  ((run == 1)) && check_same "ferry --extents (incremental, source unchanged)"
done
for ((run = 1; run <= RUNS; run++)); do
  "$PY" "$GEN_PY" mutate "$SRC" "$SIZE" "$SEED" "$EXTENTS" "$run" ||
    die "changing the source failed"
  timed "c2-ferry-$run" "$FERRY" sync "$SRC" "$DST" --extents "$EXTENTS" --json
  record c2_ferry ferry
  say "  run $run ferry --extents, source changed    $ELAPSED s  (CPU $CPU s, RSS $((RSS / 1024)) MiB)"
  check_same "ferry --extents (incremental, source changed, run $run)"
done

# ------------------------------------------------- report
med() { median ${TIMES[$1]}; }
medcpu() { median ${CPUS[$1]}; }
A_F=$(med a_ferry) A_N=$(med a_nbdcopy) A_Q=$(med a_qemu)
B_F=$(med b_ferry) B_N=$(med b_nbdcopy) B_Q=$(med b_qemu)
C1_F=$(med c1_ferry) C2_F=$(med c2_ferry)
A_FN=$(ratio "$A_F" "$A_N") A_FQ=$(ratio "$A_F" "$A_Q")
B_FN=$(ratio "$B_F" "$B_N") B_FQ=$(ratio "$B_F" "$B_Q")
C1_FN=$(ratio "$C1_F" "$A_N") C1_SPEED=$(ratio "$A_N" "$C1_F")
C2_FN=$(ratio "$C2_F" "$A_N") C2_SPEED=$(ratio "$A_N" "$C2_F")
kib2mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }
RSS_MIB=$(kib2mib "${MAXRSS[ferry]}")
T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

json_field() { # json_field LOG KEY: a number from ferry --json output
  sed -n "s/^ *\"$2\": *\([0-9.]*\).*/\\1/p" "$LOGS/$1.log" | head -n 1
}
mib() { awk -v b="${1:-0}" 'BEGIN { printf "%.0f", b / 1048576 }'; }
ferry_stats() { # ferry_stats LOG: what one ferry run did, from --json
  echo "copied $(mib "$(json_field "$1" copied_bytes)") MiB," \
       "zeroed $(mib "$(json_field "$1" zeroed_bytes)") MiB," \
       "skipped $(mib "$(json_field "$1" skipped_bytes)") MiB," \
       "own timer $(json_field "$1" seconds) s"
}

REPORT=$(
  echo "## ferry benchmark"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cores;" \
       "ferry $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')," \
       "$(nbdcopy --version | head -n 1), $(qemu-img --version | head -n 1 | cut -d' ' -f1-3)"
  echo
  echo "| setup | ferry (s) | nbdcopy (s) | qemu-img convert (s) | ferry/nbdcopy | ferry/qemu-img |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| file → file | $A_F | $A_N | $A_Q | $A_FN | $A_FQ |"
  echo "| NBD → NBD (qemu-nbd) | $B_F | $B_N | $B_Q | $B_FN | $B_FQ |"
  echo "| incremental: ferry --extents (source unchanged) vs full nbdcopy, file → file | $C1_F | $A_N | – | $C1_FN | – |"
  echo "| incremental: ferry --extents (extents rewritten at the source) vs full nbdcopy, file → file | $C2_F | $A_N | – | $C2_FN | – |"
  echo
  echo "- image: $SIZE_STR raw, $((DATA_MIB * 100 / TOTAL_MIB))% random data" \
       "($DATA_MIB of $TOTAL_MIB 1 MiB runs, seed $SEED), the rest holes"
  echo "- extent list: $NEXT extents of 4 KiB..1 MiB, $(mib "$EXT_BYTES") MiB" \
       "($(awk -v a="$EXT_BYTES" -v b="$SIZE" 'BEGIN { printf "%.1f", 100 * a / b }')% of the disk)"
  echo "- runs: $RUNS per tool and setup, medians, tools in rotating order;" \
       "page cache dropped (sync; echo 3 > drop_caches) before every timed run: $DROP"
  echo "- load average at start: $LOAD_START, at end: $LOAD_END ($(nproc) cores)"
  echo "- ferry peak RSS (default options): $RSS_MIB MiB;" \
       "nbdcopy $(kib2mib "${MAXRSS[nbdcopy]}") MiB, qemu-img $(kib2mib "${MAXRSS[qemu-img]}") MiB" \
       "$([ "$TUNE" = 1 ] && echo "; tuning variants up to $(kib2mib "$TUNE_RSS_MAX") MiB")"
  echo "- CPU s (user+sys of the tool, median): file → file ferry $(medcpu a_ferry)," \
       "nbdcopy $(medcpu a_nbdcopy), qemu-img $(medcpu a_qemu);" \
       "NBD → NBD ferry $(medcpu b_ferry), nbdcopy $(medcpu b_nbdcopy)," \
       "qemu-img $(medcpu b_qemu) (qemu-nbd's CPU not counted)"
  echo "- ferry run 1 (defaults: --workers $FERRY_DEF_W_FILE for files," \
       "$FERRY_DEF_W_NBD for NBD, --requests $FERRY_DEF_R" \
       "--request-size $FERRY_DEF_S): file → file $(ferry_stats a-ferry-1);" \
       "NBD → NBD $(ferry_stats b-ferry-1);" \
       "incremental, source unchanged: $(ferry_stats c1-ferry-1);" \
       "source changed: $(ferry_stats c2-ferry-1)"
  echo "- flush: ferry fdatasync / NBD flush (always); nbdcopy --flush;" \
       "qemu-img convert -t writeback (its default output cache for convert" \
       "is 'unsafe', which never flushes); source cache: defaults"
  echo "- destinations: fresh sparse file (rm; truncate -s) for ferry and nbdcopy;" \
       "qemu-img convert creates it (file → file) or writes with -n (NBD);" \
       "NBD: one qemu-nbd -r -f raw -t -e 8 for the source, a fresh" \
       "qemu-nbd -f raw -t -e 8 --discard=unmap on a fresh file per run for the destination"
  echo
  echo "| target (informational) | value | result |"
  echo "|---|---:|---|"
  echo "| file → file: ferry ≤ ${T_FULL_RATIO}× nbdcopy | ${A_FN}× | $(verdict "$A_FN" '<=' $T_FULL_RATIO) |"
  echo "| NBD → NBD: ferry ≤ ${T_FULL_RATIO}× nbdcopy | ${B_FN}× | $(verdict "$B_FN" '<=' $T_FULL_RATIO) |"
  echo "| incremental (source unchanged) ≥ ${T_INCR_SPEEDUP}× faster than full nbdcopy | ${C1_SPEED}× | $(verdict "$C1_SPEED" '>=' $T_INCR_SPEEDUP) |"
  echo "| incremental (extents rewritten) ≥ ${T_INCR_SPEEDUP}× faster than full nbdcopy | ${C2_SPEED}× | $(verdict "$C2_SPEED" '>=' $T_INCR_SPEEDUP) |"
  echo "| ferry peak RSS ≤ $T_RSS_MIB MiB (default options) | $RSS_MIB MiB | $(verdict "$RSS_MIB" '<=' $T_RSS_MIB) |"
  echo
  echo "All runs (s), in run order: file ferry${TIMES[a_ferry]}; nbdcopy${TIMES[a_nbdcopy]};" \
       "qemu-img${TIMES[a_qemu]}. NBD ferry${TIMES[b_ferry]};" \
       "nbdcopy${TIMES[b_nbdcopy]}; qemu-img${TIMES[b_qemu]}." \
       "Incremental ferry, unchanged${TIMES[c1_ferry]}; changed${TIMES[c2_ferry]}."
  if [ -n "$TUNE_TABLE" ]; then
    echo
    echo "### ferry tuning (one run each; 'vs default' = time / time of the first row of the setup)"
    echo
    printf '%s' "$TUNE_TABLE"
  fi
  echo
  echo "Total wall time: $((T_END - T_START)) s"
)

echo
echo "$REPORT"
mkdir -p "$OUTDIR" && printf '%s\n' "$REPORT" >"$OUTDIR/results.md" &&
  say "wrote $OUTDIR/results.md"
exit 0
