#!/usr/bin/env bash
# libvirt benchmark (not a test): a round of 5% changed blocks on a 2 GiB
# disk through libvirt's pull backup, beside the same round on the local
# qemu platform, each against 1.5 x changed bytes / full-copy throughput;
# and a libvirt round's fixed cost. See bench/libvirt.py.
#
#   make bench                               # after the others
#   LV_SIZE=512M LV_PCT=5 bash bench/libvirt.sh   # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build} exec /usr/bin/python3 bench/libvirt.py
