#!/usr/bin/env bash
# ELF benchmark (not a test): a 2 GiB disk, half data, copied into an ELF
# volume of the fake CloudTower over iSCSI by ferry, by qemu-img convert
# and by a bare sequential writer (the limit), and an incremental round of
# 5% scattered extents. See bench/elf.py.
#
#   make bench                            # after the others
#   ELF_SIZE=512M ELF_RUNS=1 bash bench/elf.sh   # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build} exec /usr/bin/python3 bench/elf.py
